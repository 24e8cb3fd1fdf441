"""Qt views. The only package that imports PySide6 or pyside6_scintilla; it holds no logic a CLI
user would also want (that lives in the plain packages beside it)."""
