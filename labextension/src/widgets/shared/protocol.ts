/**
 * How widget views and the JupyterLab plugin talk, with no import between them:
 * the plugin sets `window.transferWidgets`; a view dispatches a bubbling, composed,
 * cancelable `CustomEvent(INSERT_EVENT, { detail: { code } })` from its own element,
 * and the plugin calls `preventDefault()` on it once the cell is inserted, so the
 * view can tell (`dispatchEvent` returns false) and say so.
 */
export const INSERT_EVENT = 'transfer-widgets:insert-cell';

export interface InsertCellDetail {
  code: string;
}

export interface TransferWidgetsGlobal {
  version: string;
  /** Insert `code` as a code cell below the cell containing `from` (else below the active cell). */
  insertCellBelow(code: string, from?: Node | null): boolean;
}

declare global {
  interface Window {
    transferWidgets?: TransferWidgetsGlobal;
  }
}

/** The plugin's global when this page has it (JupyterLab with the extension), else null. */
export function labPlugin(win: Window = window): TransferWidgetsGlobal | null {
  const g = win.transferWidgets;
  return g && typeof g.insertCellBelow === 'function' ? g : null;
}

/** Dispatch the insert event from `el`; true when a listener (the plugin) inserted the cell. */
export function requestInsertCell(el: Element, code: string): boolean {
  const event = new CustomEvent<InsertCellDetail>(INSERT_EVENT, {
    bubbles: true,
    composed: true,
    cancelable: true,
    detail: { code }
  });
  return !el.dispatchEvent(event);
}
