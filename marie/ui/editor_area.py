"""The editor area in the centre of the window: editor groups (tab widgets) in splitters, and the
welcome view when no editor is open.

``EditorArea`` owns the layout only: which page is in which group, which group is active, splitting
right or down, moving a tab to another group, and the layout's session form (``layout_state``).
What a tab *is* (an ``EditorPage``: an optional bar above an editor view) and what opening, saving
or closing means stays with the window. GUI thread only.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QApplication, QSplitter, QStackedWidget, QTabWidget, QVBoxLayout, QWidget

from marie.ui.editor.info_bar import InfoBar
from marie.ui.qt_names import Qt


class EditorPage(QWidget):
    """One tab: a bar for the window's offers (a hot-exit backup ...) above the editor view."""

    def __init__(self, editor: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = editor
        self.bar = InfoBar(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.bar)
        layout.addWidget(editor, 1)

    def show_bar(self, kind: str, message: str, buttons: list[tuple[str, Callable[[], None]]]) -> InfoBar:
        self.bar.show_message(kind, message, buttons)
        return self.bar

    def clear_bar(self, kind: str | None = None) -> None:
        if self.bar.kind and (kind is None or self.bar.kind == kind):
            self.bar.dismiss()

    def showing_bar(self) -> InfoBar | None:
        return self.bar if self.bar.kind and not self.bar.isHidden() else None


class EditorGroup(QTabWidget):
    """A tab widget holding EditorPages."""

    def __init__(self, area: "EditorArea") -> None:
        super().__init__(area)
        self.area = area
        self.setObjectName("EditorTabs")
        self.setDocumentMode(True)
        self.setTabsClosable(True)
        self.setMovable(True)
        self.tabCloseRequested.connect(lambda index: area.closeRequested.emit(self.widget(index)))
        self.currentChanged.connect(lambda _i: area._group_current_changed(self))
        self.tabBar().tabMoved.connect(lambda *_: area.layoutChanged.emit())
        self.tabBar().setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tabBar().customContextMenuRequested.connect(self._tab_menu)

    def _tab_menu(self, point: Any) -> None:
        """Right-click on a tab: the area's ``tab_actions(page)`` (split, move to another group, close)."""
        from PySide6.QtWidgets import QMenu

        index = self.tabBar().tabAt(point)
        page = self.widget(index) if index >= 0 else None
        if page is None or self.area.tab_actions is None:
            return
        self.area.set_current(page)
        menu = QMenu(self)
        for title, callback in self.area.tab_actions(page):
            menu.addAction(title, callback)
        self.area.last_menu = menu
        menu.popup(self.tabBar().mapToGlobal(point))

    def pages(self) -> list[EditorPage]:
        pages = (self.widget(i) for i in range(self.count()))
        return [p for p in pages if isinstance(p, EditorPage)]


class EditorArea(QWidget):
    """Groups of tabs in nested splitters, or the welcome view when there is no tab at all.

    Signals: ``currentChanged()`` (the current page may be another one), ``closeRequested(page)``
    (a tab's close button), ``layoutChanged()`` (tabs or groups moved: save the session)."""

    currentChanged = Signal()
    closeRequested = Signal(object)
    layoutChanged = Signal()

    def __init__(self, welcome: QWidget | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("EditorArea")
        self.stack = QStackedWidget(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self.root = QSplitter(Qt.Orientation.Horizontal, self.stack)
        self.root.setChildrenCollapsible(False)
        self.groups: list[EditorGroup] = []
        self.active = self._new_group()
        self.root.addWidget(self.active)
        self.welcome = welcome
        # (title, callback) pairs for a tab's right-click menu; the window sets it
        self.tab_actions: Callable[[QWidget], list[tuple[str, Callable[[], Any]]]] | None = None
        self.last_menu: Any = None
        self.stack.addWidget(self.root)
        if welcome is not None:
            self.stack.addWidget(welcome)
        self._refresh_welcome()
        QApplication.instance().focusChanged.connect(self._focus_changed)

    def set_welcome(self, welcome: QWidget) -> None:
        """The view shown while no editor is open (made after the first paint)."""
        if self.welcome is not None:
            self.stack.removeWidget(self.welcome)
        self.welcome = welcome
        self.stack.addWidget(welcome)
        self._refresh_welcome()

    # -- queries ----------------------------------------------------------------------------------
    def pages(self) -> list[EditorPage]:
        """Every page, group by group (left to right, top to bottom), in tab order."""
        return [p for g in self._groups_in_order() for p in g.pages()]

    def current_page(self) -> EditorPage | None:
        page = self.active.currentWidget()
        return page if isinstance(page, EditorPage) else None

    def group_of(self, page: QWidget) -> EditorGroup | None:
        for group in self.groups:
            if group.indexOf(page) >= 0:
                return group
        return None

    # -- changes ------------------------------------------------------------------------------------
    def add_page(self, page: EditorPage, title: str, tip: str, group: EditorGroup | None = None) -> None:
        group = group or self.active
        index = group.addTab(page, title)
        group.setTabToolTip(index, tip)
        self._refresh_welcome()
        self.layoutChanged.emit()

    def set_current(self, page: QWidget) -> None:
        group = self.group_of(page)
        if group is None:
            return
        self.active = group
        group.setCurrentWidget(page)
        self._refresh_welcome()
        self.currentChanged.emit()

    def set_title(self, page: EditorPage, title: str, tip: str) -> None:
        group = self.group_of(page)
        if group is not None:
            index = group.indexOf(page)
            group.setTabText(index, title)
            group.setTabToolTip(index, tip)

    def remove_page(self, page: QWidget) -> None:
        """Take the page out of its group; an empty group other than the last one goes too."""
        group = self.group_of(page)
        if group is None:
            return
        group.removeTab(group.indexOf(page))
        if not group.count() and len(self.groups) > 1:
            self._drop_group(group)
        self._refresh_welcome()
        self.currentChanged.emit()
        self.layoutChanged.emit()

    def split(self, orientation: Qt.Orientation, source: EditorGroup | None = None) -> EditorGroup:
        """A new, empty group next to ``source`` (default: the active group): to its right for
        Horizontal, below it for Vertical. It becomes the active group."""
        source = source or self.active
        parent = source.parentWidget()
        assert isinstance(parent, QSplitter)
        group = self._new_group()
        at = parent.indexOf(source)
        if parent.count() == 1 or parent.orientation() == orientation:
            parent.setOrientation(orientation)
            parent.insertWidget(at + 1, group)
            sizes = parent.sizes()
        else:
            inner = QSplitter(orientation)
            inner.setChildrenCollapsible(False)
            parent.replaceWidget(at, inner)
            inner.addWidget(source)
            inner.addWidget(group)
            parent, sizes = inner, []
        total = sum(sizes) or 2
        parent.setSizes([total // parent.count()] * parent.count())
        self.active = group
        self.layoutChanged.emit()
        return group

    def move_page(self, page: EditorPage, target: EditorGroup, title: str, tip: str) -> None:
        """Move ``page`` into ``target`` (a tab dragged to another group, or "Move Editor")."""
        source = self.group_of(page)
        if source is None or source is target:
            return
        source.removeTab(source.indexOf(page))
        index = target.addTab(page, title)
        target.setTabToolTip(index, tip)
        if not source.count() and len(self.groups) > 1:
            self._drop_group(source)
        self.set_current(page)
        self.layoutChanged.emit()

    def neighbour(self, group: EditorGroup, step: int) -> EditorGroup | None:
        """The group after (step=1) or before (step=-1) ``group``, in order; None at the ends."""
        order = self._groups_in_order()
        at = order.index(group) + step
        return order[at] if 0 <= at < len(order) else None

    # -- session form -------------------------------------------------------------------------------
    def layout_state(self, key: Callable[[EditorPage], Any]) -> dict:
        """The split tree: ``{"split": "h"|"v", "children": [...]}`` or ``{"tabs": [key(page)...],
        "current": i, "active": bool}``; ``key`` names a page (None leaves it out)."""
        def node(widget: QWidget) -> dict:
            if isinstance(widget, QSplitter):
                return {"split": "h" if widget.orientation() == Qt.Orientation.Horizontal else "v",
                        "children": [node(widget.widget(i)) for i in range(widget.count())]}
            pages = [p for p in widget.pages() if key(p) is not None]
            current = widget.currentWidget()
            return {"tabs": [key(p) for p in pages], "current": pages.index(current) if current in pages else -1,
                    "active": widget is self.active}
        return node(self.root)

    def build_layout(self, state: dict, place: Callable[[Any, EditorGroup], None]) -> None:
        """Recreate a saved split tree (``layout_state``): ``place(tab_key, group)`` opens each tab
        in its group. Called on an area with one empty group."""
        def build(node: dict, group: EditorGroup) -> None:
            if "split" in node:
                children = node.get("children") or []
                orientation = Qt.Orientation.Horizontal if node["split"] == "h" else Qt.Orientation.Vertical
                groups = [group]
                for _child in children[1:]:
                    groups.append(self.split(orientation, groups[-1]))
                for child, g in zip(children, groups):
                    build(child, g)
                return
            self.active = group
            for tab in node.get("tabs", []):
                place(tab, group)
            current = int(node.get("current", -1))
            if 0 <= current < group.count():
                group.setCurrentIndex(current)
            if node.get("active"):
                wanted.append(group)

        wanted: list[EditorGroup] = []
        build(state, self.active)
        for group in [g for g in list(self.groups) if not g.count() and len(self.groups) > 1]:
            self._drop_group(group)
        if wanted and wanted[-1] in self.groups:
            self.active = wanted[-1]
        self._refresh_welcome()
        self.currentChanged.emit()

    # -- internals ----------------------------------------------------------------------------------
    def _new_group(self) -> EditorGroup:
        group = EditorGroup(self)
        self.groups.append(group)
        return group

    def _drop_group(self, group: EditorGroup) -> None:
        parent = group.parentWidget()
        self.groups.remove(group)
        group.hide()
        group.setParent(None)
        group.deleteLater()
        # a splitter left with one child gives it back to its own parent
        while isinstance(parent, QSplitter) and parent is not self.root and parent.count() == 1:
            child, outer = parent.widget(0), parent.parentWidget()
            assert isinstance(outer, QSplitter)
            outer.replaceWidget(outer.indexOf(parent), child)
            parent.deleteLater()
            parent = outer
        if self.active is group:
            self.active = self._groups_in_order()[0]

    def _groups_in_order(self) -> list[EditorGroup]:
        out: list[EditorGroup] = []

        def walk(widget: QWidget) -> None:
            if isinstance(widget, QSplitter):
                for i in range(widget.count()):
                    walk(widget.widget(i))
            elif isinstance(widget, EditorGroup) and widget in self.groups:
                out.append(widget)
        walk(self.root)
        return out

    def _group_current_changed(self, group: EditorGroup) -> None:
        if group is self.active:
            self.currentChanged.emit()

    def _focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        if new is None:
            return
        for group in self.groups:
            if group.isAncestorOf(new) and group is not self.active:
                self.active = group
                self.currentChanged.emit()
                return

    def _refresh_welcome(self) -> None:
        empty = not any(g.count() for g in self.groups)
        if self.welcome is not None and empty:
            self.stack.setCurrentWidget(self.welcome)
        else:
            self.stack.setCurrentWidget(self.root)
