"""Governance (issue 16): the admin policy, the one egress gate with secret redaction, the
tamper-evident audit log, encryption at rest under the customer's key, budgets and usage reports.
No Qt. ``app.governance`` (``service.Governance``) ties them together; see each module's docstring."""
