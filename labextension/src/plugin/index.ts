/**
 * transfer-widgets JupyterLab plugin: what only Lab can do for the widgets.
 *
 * - sets `window.transferWidgets = { version, insertCellBelow(code, from?) }` so the
 *   anywidget views can tell they run in Lab;
 * - when a widget dispatches a bubbling `CustomEvent('transfer-widgets:insert-cell',
 *   { detail: { code } })`, inserts `code` as a new code cell directly below the cell
 *   whose output holds that widget (below the active cell only when the event came
 *   from outside any notebook cell), and calls `preventDefault()` on the event so
 *   the widget knows it was inserted;
 * - adds the command "Insert layer tree cell" to the command palette;
 * - adds "New fine-tuning notebook" (launcher card, palette, and the file browser's
 *   context menu in a folder, which is how Notebook 7 reaches it): a notebook that opens
 *   the studio on the offline demo data;
 * - adds "Fine-tune in a new notebook" to the file browser's context menu on `.keras` /
 *   `.h5` files: a notebook beside the file that loads it with `safe_mode=True`.
 *
 * It does not import `@jupyter-widgets/*`: widgets talk to it through DOM events
 * (see ../widgets/shared/protocol.ts).
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { ILauncher } from '@jupyterlab/launcher';
import { INotebookTracker, type Notebook, type NotebookPanel } from '@jupyterlab/notebook';
import { notebookIcon } from '@jupyterlab/ui-components';
import { INSERT_EVENT, type InsertCellDetail, type TransferWidgetsGlobal } from '../widgets/shared/protocol';
import { eventOrigin, locateCell } from './locate';
import {
  type CellTemplate,
  folderOf,
  isModelFile,
  modelFileNotebook,
  notebookContent,
  studioNotebook
} from './templates';

export { INSERT_EVENT, type TransferWidgetsGlobal };
export const PLUGIN_ID = 'transfer-widgets:plugin';
export const VERSION = '0.1.0';
export const LAYER_TREE_CELL = 'from transfer_widgets import LayerTree\nLayerTree(model)';

export namespace CommandIDs {
  export const insertLayerTree = 'transfer-widgets:insert-layer-tree';
  export const newNotebook = 'transfer-widgets:new-notebook';
  export const fineTuneFile = 'transfer-widgets:fine-tune-file';
}

/** Insert `code` as a code cell at `index` of `notebook`, make it active and show it. */
export function insertCodeCell(notebook: Notebook, index: number, code: string): boolean {
  const model = notebook.model;
  if (!model) return false;
  // Trusted like any cell the user adds: the code comes from the user's own session.
  model.sharedModel.insertCell(index, { cell_type: 'code', source: code, metadata: { trusted: true } });
  notebook.activeCellIndex = index;
  notebook.deselectAll();
  const cell = notebook.widgets[index];
  if (cell) void notebook.scrollToCell(cell).catch(() => undefined);
  return true;
}

/**
 * Insert `code` as a new code cell below the cell that contains `from` (a widget's
 * element) in any open notebook; when `from` is in no notebook cell, below the
 * active cell of the current notebook. Returns whether a cell was inserted.
 */
export function insertCellBelow(tracker: INotebookTracker, code: string, from?: Node | null): boolean {
  const panels: NotebookPanel[] = [];
  tracker.forEach(panel => {
    panels.push(panel);
  });
  const found = locateCell(panels, from);
  if (found) return insertCodeCell(found.panel.content, found.index + 1, code);
  const panel = tracker.currentWidget;
  if (!panel) return false;
  const notebook = panel.content;
  return insertCodeCell(notebook, notebook.activeCell ? notebook.activeCellIndex + 1 : 0, code);
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Lets transfer-widgets insert generated code as notebook cells.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette, ILauncher, IFileBrowserFactory],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    palette: ICommandPalette | null,
    launcher: ILauncher | null,
    browsers: IFileBrowserFactory | null
  ) => {
    const insert = (code: string, from?: Node | null) => insertCellBelow(tracker, code, from);
    window.transferWidgets = { version: VERSION, insertCellBelow: insert };

    const onInsert = (event: Event) => {
      const code = (event as CustomEvent<Partial<InsertCellDetail>>).detail?.code;
      if (typeof code === 'string' && insert(code, eventOrigin(event))) event.preventDefault();
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

    /**
     * A new notebook in `cwd` holding `cells`, written first and then opened: Lab opens it
     * in its main area, Notebook 7's file browser in a new browser tab (so a notebook made
     * in this page and filled here would reach the other tab empty).
     */
    const newNotebook = async (cwd: string, cells: CellTemplate[]): Promise<unknown> => {
      const contents = app.serviceManager.contents;
      const file = await contents.newUntitled({ path: cwd, type: 'notebook' });
      await contents.save(file.path, { type: 'notebook', format: 'json', content: notebookContent(cells) });
      return app.commands.execute('docmanager:open', { path: file.path, factory: 'Notebook' });
    };

    app.commands.addCommand(CommandIDs.newNotebook, {
      label: 'New fine-tuning notebook',
      caption: 'A notebook that opens the transfer-widgets studio on the offline demo data',
      icon: notebookIcon,
      execute: args => {
        const cwd = typeof args.cwd === 'string' ? args.cwd : (browsers?.tracker.currentWidget?.model.path ?? '');
        return newNotebook(cwd, studioNotebook());
      }
    });
    palette?.addItem({ command: CommandIDs.newNotebook, category: 'Transfer widgets' });
    launcher?.add({ command: CommandIDs.newNotebook, category: 'Notebook', rank: 100 });
    // Right-click in a folder's listing, beside "New Folder" / "New File": Notebook 7 has no
    // launcher and its "New" menu takes no extensions, so this is its way in (Lab's too).
    app.contextMenu.addItem({ command: CommandIDs.newNotebook, selector: '.jp-DirListing-content', rank: 1 });

    /** The model file selected in the file browser, if one is. */
    const selectedModelFile = (): string | null => {
      const item = browsers?.tracker.currentWidget?.selectedItems().next();
      const path = item && !item.done ? item.value.path : null;
      return path && isModelFile(path) ? path : null;
    };
    app.commands.addCommand(CommandIDs.fineTuneFile, {
      label: 'Fine-tune in a new notebook',
      caption: 'A notebook beside this model that loads it (safe_mode=True) and opens the studio',
      icon: notebookIcon,
      isVisible: () => selectedModelFile() !== null,
      execute: () => {
        const path = selectedModelFile();
        if (!path) return;
        return newNotebook(folderOf(path), modelFileNotebook(path.slice(folderOf(path).length).replace(/^\//, '')));
      }
    });
    // On every file; isVisible keeps it to .keras / .h5 files.
    app.contextMenu.addItem({
      command: CommandIDs.fineTuneFile,
      selector: '.jp-DirListing-item[data-isdir="false"]',
      rank: 3
    });
  }
};

export default plugin;
