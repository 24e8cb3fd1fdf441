"""The AI composer: context building, edit formats and their parsers, change sets, review and apply.

Everything here is plain Python (no Qt); the pane in ``marie/ui/panels/composer.py`` and the
``marie compose`` command are thin views over ``ComposerService``.
"""
