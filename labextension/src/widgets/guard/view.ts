/**
 * The snapshot guard: one child of a composite built from plain ipywidgets (the studio's
 * workflow toolbar, the training monitor's controls). Those views have no snapshot mode
 * of their own, so on a page with no kernel they would look alive and do nothing. Live,
 * the guard shows nothing and takes no space; in a snapshot it shows the note and keeps
 * every control of its composite off, including controls ipywidgets renders after it.
 */
import type { WidgetModel } from '../shared/dom';
import { CONTROLS, type FormControl, isSnapshot, snapshotNote } from '../shared/snapshot';

/**
 * Turn off the controls of `root` that no nested widget owns: a control inside another
 * `.tw-widget` below the root (a layer tree in a studio tab, the monitor's own guarded
 * root) is left to that widget's snapshot mode, which may keep some of its controls on
 * (the tree's expand and filter).
 */
export function disableControls(root: Element): void {
  for (const c of root.querySelectorAll<FormControl>(CONTROLS)) {
    const owner = c.closest('.tw-widget');
    const nested = owner !== null && owner !== root && root.contains(owner);
    if (!nested && !c.disabled) c.disabled = true;
  }
}

/** The nearest ancestor of `el` with class `cls` (a class name, not a selector). */
function ancestorWithClass(el: Element, cls: string): Element | null {
  for (let n = el.parentElement; n !== null; n = n.parentElement) if (cls && n.classList.contains(cls)) return n;
  return null;
}

export function renderSnapshotGuard({ model, el }: { model: WidgetModel; el: HTMLElement }): () => void {
  // Live it renders nothing: snapshot_guard.css hides an empty guard, so it leaves no gap
  // in the composite's flex layout (an inline style would not last: ipywidgets' layout
  // view rewrites the element's style after this render).
  if (!isSnapshot(model)) return () => {};
  const rootClass = String(model.get('root') ?? '');
  const note = snapshotNote();
  el.append(note);
  let root: Element | null = null;
  // Views of a box render before the box puts them on the page: watch the document until
  // the guard sits inside its root, then watch the root for controls rendered later and
  // for any view turning one back on.
  const watch = new MutationObserver(() => {
    if (root === null) attach();
    else disableControls(root);
  });
  const attach = () => {
    root = ancestorWithClass(el, rootClass);
    if (root === null) return;
    watch.disconnect();
    disableControls(root);
    watch.observe(root, { childList: true, subtree: true, attributes: true, attributeFilter: ['disabled'] });
  };
  watch.observe(document.documentElement, { childList: true, subtree: true });
  attach();
  return () => {
    watch.disconnect();
    note.remove();
  };
}
