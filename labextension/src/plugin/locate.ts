/**
 * Which notebook cell a DOM node (a widget inside a cell's output) belongs to.
 * Pure DOM look-ups over anything shaped like Lab's notebook panels and cells,
 * so it is tested without JupyterLab.
 */

export interface CellLike {
  node: HTMLElement;
}

export interface NotebookPanelLike<C extends CellLike = CellLike> {
  node: HTMLElement;
  content: { widgets: readonly C[] };
}

export interface CellLocation<P> {
  panel: P;
  index: number;
}

/**
 * The panel and cell index whose cell node contains `target`, or null when `target`
 * is in no cell of these panels (a palette command, a detached output view).
 */
export function locateCell<P extends NotebookPanelLike>(
  panels: Iterable<P>,
  target: Node | null | undefined
): CellLocation<P> | null {
  if (!target) return null;
  for (const panel of panels) {
    if (!panel.node.contains(target)) continue;
    const index = panel.content.widgets.findIndex(cell => cell.node.contains(target));
    if (index >= 0) return { panel, index };
  }
  return null;
}

/**
 * The node an event came from, in the document's own tree: the dispatching element,
 * or the host of the shadow root it sits in (a composed event crosses it).
 */
export function eventOrigin(event: Event): Node | null {
  const path = typeof event.composedPath === 'function' ? event.composedPath() : [];
  for (const n of path) {
    if (n instanceof Node && n.getRootNode() === n.ownerDocument) return n;
  }
  return event.target instanceof Node ? event.target : null;
}
