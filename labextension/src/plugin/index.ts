/**
 * transfer-widgets JupyterLab plugin: what only Lab can do for the widgets.
 *
 * - sets `window.transferWidgets = { version, insertCellBelow(code) }` so the
 *   anywidget views can tell they run in Lab;
 * - inserts a code cell below the active cell when a widget dispatches a bubbling
 *   `CustomEvent('transfer-widgets:insert-cell', { detail: { code } })`;
 * - adds the command "Insert layer tree cell" to the command palette.
 *
 * It does not import `@jupyter-widgets/*`: widgets talk to it through DOM events.
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';

export const PLUGIN_ID = 'transfer-widgets:plugin';
export const INSERT_EVENT = 'transfer-widgets:insert-cell';
export const VERSION = '0.1.0';
export const LAYER_TREE_CELL = 'from transfer_widgets import LayerTree\nLayerTree(model)';

export namespace CommandIDs {
  export const insertLayerTree = 'transfer-widgets:insert-layer-tree';
}

export interface TransferWidgetsGlobal {
  version: string;
  insertCellBelow(code: string): boolean;
}

declare global {
  interface Window {
    transferWidgets?: TransferWidgetsGlobal;
  }
}

/** Insert `code` as a new code cell below the active cell of the current notebook. */
export function insertCellBelow(tracker: INotebookTracker, code: string): boolean {
  const panel = tracker.currentWidget;
  if (!panel) return false;
  const notebook = panel.content;
  if (!notebook.model) return false;
  NotebookActions.insertBelow(notebook);
  if (notebook.activeCell?.model.type !== 'code') NotebookActions.changeCellType(notebook, 'code');
  const cell = notebook.activeCell;
  if (!cell) return false;
  cell.model.sharedModel.setSource(code);
  return true;
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Lets transfer-widgets insert generated code as notebook cells.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette],
  activate: (app: JupyterFrontEnd, tracker: INotebookTracker, palette: ICommandPalette | null) => {
    const insert = (code: string) => insertCellBelow(tracker, code);
    window.transferWidgets = { version: VERSION, insertCellBelow: insert };

    const onInsert = (event: Event) => {
      const code = (event as CustomEvent<{ code?: unknown }>).detail?.code;
      if (typeof code === 'string') insert(code);
    };
    document.addEventListener(INSERT_EVENT, onInsert);

    app.commands.addCommand(CommandIDs.insertLayerTree, {
      label: 'Insert layer tree cell',
      caption: 'Insert a cell that shows `model` as a LayerTree',
      isEnabled: () => tracker.currentWidget !== null,
      execute: () => {
        insert(LAYER_TREE_CELL);
      }
    });
    palette?.addItem({ command: CommandIDs.insertLayerTree, category: 'Transfer widgets' });
  }
};

export default plugin;
