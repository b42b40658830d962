/**
 * Views with no kernel behind them: a page rendered from saved widget state (nbconvert
 * HTML, Jupyter Book). There the traits hold the last data but nothing answers a click,
 * so the view says it is a snapshot and its kernel-bound controls are off, rather than
 * looking alive and doing nothing.
 */
import { h, type WidgetModel } from './dom';

/** What a page's embedder sets (on `window`, or `data-tw-static` on <html>) to say "no kernel". */
export const STATIC_FLAG = 'transferWidgetsStatic';

/**
 * True when nothing will answer this view: the embedder says so, or the widget manager has
 * no kernel (the html-manager of static pages; Lab, Notebook 7, Voila and VS Code managers
 * all have one). Colab's manager is left alone: it is live whatever its shape.
 */
export function isSnapshot(model: WidgetModel): boolean {
  const g = globalThis as Record<string, unknown>;
  if (g[STATIC_FLAG] === true || document.documentElement.dataset.twStatic === 'true') return true;
  const manager = (model as { widget_manager?: unknown }).widget_manager;
  const colab = typeof g.google === 'object' && g.google !== null && 'colab' in g.google;
  return typeof manager === 'object' && manager !== null && !('kernel' in manager) && !colab;
}

/**
 * The model as a snapshot's view sees it: nothing is sent or saved, and with
 * `disabledTrait`, `disabled` reads true (the view's own read-only mode).
 */
export function readOnly(model: WidgetModel, disabledTrait: boolean): WidgetModel {
  return {
    get: name => (disabledTrait && name === 'disabled' ? true : model.get(name)),
    set: () => {},
    save_changes: () => {},
    send: () => {},
    on: (event, cb) => model.on(event, cb),
    off: (event, cb) => model.off(event, cb)
  };
}

/** Every element a reader could press or type into. */
export const CONTROLS = 'button, input, select, textarea';
export type FormControl = HTMLButtonElement | HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

/** The note a snapshot shows above its controls (`role="note"`, styled by theme.css). */
export function snapshotNote(): HTMLDivElement {
  return h(
    'div',
    'tw-snapshot-note',
    'Snapshot: saved with this page, no kernel connected. Run the notebook to use the controls.',
    { role: 'note' }
  );
}

type Render = (args: { model: WidgetModel; el: HTMLElement }) => () => void;

/**
 * `render`, made safe for a snapshot: the view renders from the saved traits with a
 * read-only model and a note above it says what the reader is looking at. With
 * `controls: 'trait'` the view's `disabled` trait reads true (the layer tree: its
 * kernel-bound controls go off, expanding and filtering still work); with `'all'` every
 * control in it is turned off (views whose `disabled` means something else, such as the
 * head designer's "training").
 */
export function snapshotAware(render: Render, controls: 'trait' | 'all'): Render {
  return ({ model, el }) => {
    if (!isSnapshot(model)) return render({ model, el });
    const note = snapshotNote();
    el.append(note);
    const cleanup = render({ model: readOnly(model, controls === 'trait'), el });
    if (controls === 'all') {
      for (const c of el.querySelectorAll<FormControl>(CONTROLS)) c.disabled = true;
    }
    return () => {
      cleanup();
      note.remove();
    };
  };
}
