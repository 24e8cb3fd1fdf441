"""A labelled secret corpus: (kind, secret, text) samples built from seeded random values.

Each kind's secrets are placed in several contexts (Python, JSON, YAML, .env, shell, prose, split
across lines), so a detector that only knows one of them fails. ``NEGATIVES`` are texts that look
close but hold no secret (identifiers, hashes, placeholders). The values are random, not real keys.
"""

from __future__ import annotations

import base64
import random
import string

R = random.Random(16)
ALNUM = string.ascii_letters + string.digits
UP = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"


def rnd(n: int, chars: str = ALNUM) -> str:
    return "".join(R.choice(chars) for _ in range(n))


def b64(n: int) -> str:
    return base64.b64encode(R.randbytes(n)).decode()


def pem(label: str, lines: int = 8) -> str:
    body = "\n".join(b64(48) for _ in range(lines))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----"


def jwt() -> str:
    head = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("=")
    body = base64.urlsafe_b64encode(('{"sub":"%s","iat":1516239022}' % rnd(10)).encode()).decode().rstrip("=")
    return f"{head}.{body}.{rnd(43, ALNUM + '_-')}"


# kind -> a function returning a fresh secret value
GENERATORS = {
    "aws_access_key_id": lambda: "AKIA" + rnd(16, UP),
    "aws_secret_access_key": lambda: rnd(40, ALNUM + "/+"),
    "gcp_api_key": lambda: "AIza" + rnd(35, ALNUM + "_-"),
    "gcp_oauth_secret": lambda: "GOCSPX-" + rnd(28, ALNUM + "_-"),
    "azure_storage_key": lambda: b64(66)[:86] + "==",
    "github_token": lambda: R.choice(["ghp_", "gho_", "ghs_"]) + rnd(36),
    "github_pat": lambda: "github_pat_" + rnd(22) + "_" + rnd(59),
    "gitlab_token": lambda: "glpat-" + rnd(20, ALNUM + "_-"),
    "slack_token": lambda: "xoxb-" + rnd(11, string.digits) + "-" + rnd(12, string.digits) + "-" + rnd(24),
    "slack_webhook": lambda: f"https://hooks.slack.com/services/T{rnd(8, UP)}/B{rnd(8, UP)}/{rnd(24)}",
    "discord_webhook": lambda: f"https://discord.com/api/webhooks/{rnd(18, string.digits)}/{rnd(68, ALNUM + '_-')}",
    "stripe_key": lambda: "sk_live_" + rnd(24),
    "openai_key": lambda: "sk-proj-" + rnd(48, ALNUM + "_-"),
    "anthropic_key": lambda: "sk-ant-api03-" + rnd(95, ALNUM + "_-"),
    "huggingface_token": lambda: "hf_" + rnd(34, string.ascii_letters),
    "npm_token": lambda: "npm_" + rnd(36),
    "pypi_token": lambda: "pypi-AgEIcHlwaS5vcmc" + rnd(60, ALNUM + "_-"),
    "sendgrid_key": lambda: "SG." + rnd(22, ALNUM + "_-") + "." + rnd(43, ALNUM + "_-"),
    "mailgun_key": lambda: "key-" + rnd(32, HEX),
    "twilio_key": lambda: "SK" + rnd(32, HEX),
    "telegram_bot_token": lambda: rnd(9, "123456789") + ":AA" + rnd(33, ALNUM + "_-"),
    "shopify_token": lambda: "shpat_" + rnd(32, HEX),
    "digitalocean_token": lambda: "dop_v1_" + rnd(64, HEX),
    "databricks_token": lambda: "dapi" + rnd(32, HEX),
    "vault_token": lambda: "hvs." + rnd(90, ALNUM + "_-"),
    "age_secret_key": lambda: "AGE-SECRET-KEY-1" + rnd(58, UP),
    "jwt": jwt,
    "private_key": lambda: pem(R.choice(["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY"])),
    "connection_string": lambda: rnd(14) + "!x9",
    "password_assignment": lambda: rnd(10) + R.choice("!@#%^") + rnd(4, string.digits),
    "dotenv": lambda: rnd(20) + "Z9",
    "high_entropy_string": lambda: rnd(40, ALNUM + "+/"),
    "bearer_token": lambda: rnd(40, ALNUM + "-_") + "7",
}

# How each kind is put into text; {s} is the secret.
PLACES = {
    "aws_secret_access_key": ['aws_secret_access_key = "{s}"', 'AWS_SECRET_ACCESS_KEY={s}',
                              '{{"AwsSecretKey": "{s}"}}', "aws_secret: '{s}'"],
    "azure_storage_key": ["DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={s};EndpointSuffix=core.windows.net"],
    "connection_string": ["DATABASE_URL=postgres://app_user:{s}@db.internal:5432/app",
                          'engine = create_engine("mysql+pymysql://root:{s}@10.0.0.5/shop")',
                          "mongodb+srv://svc:{s}@cluster0.abcde.mongodb.net/test",
                          'conn = "Server=tcp:db.acme.net,1433;Database=main;User ID=sa;Password={s};"',
                          "redis://default:{s}@cache:6379/0"],
    "password_assignment": ['password = "{s}"', 'DB_CONFIG = {{"user": "app", "password": "{s}"}}',
                            "  db_password: '{s}'", 'client_secret="{s}"', 'self.api_key = "{s}"',
                            'settings.set("smtp_passwd", "{s}")'],
    "dotenv": ["STRIPE_SECRET={s}", "export GITHUB_TOKEN={s}", 'APP_PRIVATE_KEY="{s}"', "SESSION_AUTH={s}"],
    "high_entropy_string": ['signing_key = "{s}"', 'headers["X-Auth"] = "{s}"', "hmac_secret: '{s}'"],
    "bearer_token": ["curl -H 'Authorization: Bearer {s}' https://api.acme.io/v1/me",
                     'headers = {{"Authorization": "Bearer {s}"}}'],
}
GENERIC_PLACES = ['key = "{s}"', "TOKEN={s}", '{{"credentials": {{"value": "{s}"}}}}', "  token: {s}",
                  "The key is {s} - do not share it.", "echo {s} | docker login --password-stdin"]


def split_sample(secret: str, name: str = "KEY") -> str:
    """The secret cut into adjacent string literals across lines."""
    cut = len(secret) // 2
    return f'{name} = (\n    "{secret[:cut]}"\n    "{secret[cut:]}"\n)'


def samples() -> list[tuple[str, str, str]]:
    out = []
    for kind, make in GENERATORS.items():
        places = PLACES.get(kind, GENERIC_PLACES)
        for place in places:
            secret = make()
            out.append((kind, secret, f"# config for the {kind} case\n" + place.format(s=secret) + "\nprint('done')\n"))
        if kind not in ("private_key", "connection_string", "dotenv", "slack_webhook", "discord_webhook"):
            secret = make()
            out.append((kind, secret, split_sample(secret, "DB_PASSWORD" if kind == "password_assignment" else "KEY")))
    # private keys: inside JSON with \n escapes, and cut off without their END line
    for label in ("RSA PRIVATE KEY", "PRIVATE KEY"):
        key = pem(label)
        out.append(("private_key", key, '{"type": "service_account", "private_key": "%s"}' % key.replace("\n", "\\n")))
        cut = key.rsplit("\n", 1)[0]
        out.append(("private_key", cut, "here is my key:\n" + cut + "\n"))
    return out


NEGATIVES = [
    "token_id: int = 0\nmax_tokens = 512\nprompt_tokens = usage.prompt_tokens\n",
    'password = os.environ["DB_PASSWORD"]\nsecret = get_secret("name")\n',
    'password = "changeme"\napi_key = "<your-api-key>"\ntoken = "${TOKEN}"\n',
    'commit = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"\nsha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"\n',
    "def authenticate(user, password):\n    return check(password)\n",
    "url = 'https://example.com/path?query=1'\nhost = 'postgres://localhost/db'\n",
    'SECRET_KEY_NAME = "secret_key"\nTOKEN_TYPE = "bearer"\nfield = "password_hash"\n',
    "The password policy requires twelve characters.\n",
    "label: secret-manager\ntype: Opaque\n",
]
