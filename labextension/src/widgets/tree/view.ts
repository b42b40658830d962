/**
 * The layer tree view: plain DOM, thin. State and logic live in the pure
 * modules next to this one; this file wires them to elements and events.
 * Every model-supplied string is written with textContent, never as HTML.
 */

import { at } from '../shared/array';
import { asMessage, h, type WidgetModel } from '../shared/dom';
import { boundaryGap, boundaryMessage, leafForGap, snapToGap } from './boundary';
import { ariaChecked, classLabel, formatInt, percent, summaryText } from './format';
import { type KeyAction, keyAction } from './keyboard';
import { rangeMessage } from './range';
import { TreeState } from './state';
import { FlagCode, type KernelMessage, type TreeFlags, type TreePayload, type ViewMessage } from './types';
import { computeFilter, computeVisible, Expansion, idAt, nearestVisible, rowOf, type VisibleRows } from './visible';

export const ROW_HEIGHT = 26;
export const MAX_HEIGHT = 420;
export const OVERSCAN = 8;
const INDENT = 16;

let uid = 0;

function setAttr(el: Element, name: string, value: string | null): void {
  if (value === null) {
    if (el.hasAttribute(name)) el.removeAttribute(name);
  } else if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}

function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

interface RowParts {
  el: HTMLDivElement;
  id: number;
  twisty: HTMLButtonElement;
  box: HTMLInputElement;
  name: HTMLSpanElement;
  nameCell: HTMLSpanElement;
  cls: HTMLSpanElement;
  shape: HTMLSpanElement;
  params: HTMLSpanElement;
  tp: HTMLSpanElement;
}

export function renderLayerTree({ model, el }: { model: WidgetModel; el: HTMLElement }): () => void {
  const n = ++uid;
  let tree = treeFrom(model);
  let expansion = new Expansion(tree);
  let rows: VisibleRows = computeVisible(tree, expansion);
  let filterText = '';
  let focusedId = 0;
  let anchorId: number | null = null;
  let preferredLeaf: number | null = null;
  let disabled = !!model.get('disabled');
  const rendered = new Map<number, RowParts>();
  const pool: RowParts[] = [];
  let drag: { gap: number; pointerId: number } | null = null;

  // ---- skeleton ---------------------------------------------------------------------
  const root = h('div', 'tw-widget tw-layer-tree');
  const toolbar = h('div', 'tw-toolbar');
  const filterId = `tw-filter-${n}`;
  const filterLabel = h('label', 'tw-filter-label', 'Filter layers', { for: filterId });
  const filter = h('input', 'tw-filter', undefined, {
    type: 'search',
    id: filterId,
    placeholder: 'name or class',
    autocomplete: 'off',
    spellcheck: 'false'
  });
  const btn = (text: string, cls: string) => h('button', `tw-button ${cls}`, text, { type: 'button' });
  const freezeAll = btn('Freeze all', 'tw-freeze-all');
  const unfreezeAll = btn('Unfreeze all', 'tw-unfreeze-all');
  const expandAll = btn('Expand all', 'tw-expand-all');
  const collapseAll = btn('Collapse all', 'tw-collapse-all');
  const bnLabel = h('label', 'tw-bn');
  const bnBox = h('input', undefined, undefined, { type: 'checkbox' });
  bnLabel.append(bnBox, h('span', undefined, 'Keep BatchNorm frozen'));
  const badge = h('span', 'tw-badge', 'Read-only');
  toolbar.append(filterLabel, filter, freezeAll, unfreezeAll, expandAll, collapseAll, bnLabel, badge);

  const summary = h('div', 'tw-summary', undefined, { 'aria-live': 'polite' });
  const summaryLabel = h('span', 'tw-summary-text');
  const bar = h('div', 'tw-bar', undefined, { 'aria-hidden': 'true' });
  const barFill = h('div', 'tw-bar-fill');
  bar.append(barFill);
  summary.append(summaryLabel, bar);

  const status = h('div', 'tw-status', undefined, { role: 'alert' });

  const header = h('div', 'tw-header');
  for (const [text, cls] of [
    ['Layer', 'tw-col-name'],
    ['Class', 'tw-col-cls'],
    ['Output shape', 'tw-col-shape'],
    ['Params', 'tw-col-num'],
    ['Trainable', 'tw-col-num']
  ])
    header.append(h('span', cls, text));

  const scroller = h('div', 'tw-scroller');
  const spacer = h('div', 'tw-spacer');
  const treeEl = h('div', 'tw-tree', undefined, { role: 'tree' });
  const boundary = h('div', 'tw-boundary', undefined, {
    role: 'separator',
    tabindex: '0',
    'aria-orientation': 'horizontal',
    'aria-label': 'Freeze boundary',
    'aria-valuemin': '0'
  });
  boundary.append(h('span', 'tw-boundary-label', 'frozen above / trainable below', { 'aria-hidden': 'true' }));
  const ghost = h('div', 'tw-ghost', undefined, { 'aria-hidden': 'true' });
  ghost.hidden = true;
  spacer.append(treeEl, boundary, ghost);
  scroller.append(spacer);
  const empty = h('div', 'tw-empty', undefined, { role: 'status' });
  empty.hidden = true;
  root.append(toolbar, summary, status, header, scroller, empty);
  el.append(root);

  // ---- rendering -----------------------------------------------------------------------
  const send = (msg: ViewMessage) => model.send(msg);

  function makeRow(): RowParts {
    const row = h('div', 'tw-row', undefined, { role: 'treeitem', tabindex: '-1' });
    const nameCell = h('span', 'tw-cell tw-col-name');
    const twisty = h('button', 'tw-twisty', undefined, { type: 'button', tabindex: '-1' });
    const box = h('input', 'tw-check', undefined, { type: 'checkbox', tabindex: '-1' });
    const name = h('span', 'tw-name');
    const marker = h('span', 'tw-marker', undefined, { 'aria-hidden': 'true' });
    nameCell.append(twisty, box, name, marker);
    const cls = h('span', 'tw-cell tw-col-cls');
    const shape = h('span', 'tw-cell tw-col-shape');
    const params = h('span', 'tw-cell tw-col-num');
    const tp = h('span', 'tw-cell tw-col-num tw-tp');
    row.append(nameCell, cls, shape, params, tp);
    return { el: row, id: -1, twisty, box, name, nameCell, cls, shape, params, tp };
  }

  /** Content that depends on the node only. */
  function fillRow(p: RowParts, id: number): void {
    const node = tree.node(id);
    p.id = id;
    p.el.dataset.id = String(id);
    p.el.dataset.kind = node.kind;
    p.nameCell.style.paddingLeft = `${4 + node.depth * INDENT}px`;
    p.twisty.style.visibility = node.children.length ? 'visible' : 'hidden';
    setAttr(p.box, 'aria-label', node.name);
    setText(p.name, node.name);
    p.name.title = [node.path || node.name, node.cls, node.shape].filter(Boolean).join(' · ');
    setText(p.cls, classLabel(tree, id));
    setText(p.shape, node.shape ?? '');
    setText(p.params, formatInt(node.params));
  }

  /** Flags: checkbox, aria-checked, trainable count, colours. */
  function syncFlags(p: RowParts): void {
    const s = at(tree.state, p.id, 'node');
    setAttr(p.el, 'aria-checked', ariaChecked(s));
    const inert = tree.node(p.id).input;
    setAttr(
      p.el,
      'data-state',
      inert ? 'inert' : s === FlagCode.FROZEN ? 'frozen' : s === FlagCode.MIXED ? 'mixed' : 'trainable'
    );
    const on = s !== FlagCode.FROZEN;
    const mixed = s === FlagCode.MIXED;
    if (p.box.checked !== on) p.box.checked = on;
    if (p.box.indeterminate !== mixed) p.box.indeterminate = mixed;
    if (p.box.disabled !== (disabled || inert)) p.box.disabled = disabled || inert;
    p.box.style.visibility = inert ? 'hidden' : '';
    setText(p.tp, formatInt(at(tree.trainableParams, p.id, 'node')));
  }

  /** Position-dependent attributes. */
  function placeRow(p: RowParts, index: number): void {
    const id = p.id;
    const node = tree.node(id);
    p.el.style.top = `${index * ROW_HEIGHT}px`;
    setAttr(p.el, 'aria-level', String(node.depth + 1));
    setAttr(p.el, 'aria-setsize', String(rows.setSize[index]));
    setAttr(p.el, 'aria-posinset', String(rows.posInSet[index]));
    const open = expansion.isExpanded(id);
    setAttr(p.el, 'aria-expanded', node.children.length ? String(open) : null);
    setAttr(p.twisty, 'aria-label', node.children.length ? (open ? 'Collapse' : 'Expand') : null);
    setText(p.twisty, node.children.length ? (open ? '▾' : '▸') : '');
    setAttr(p.el, 'tabindex', id === focusedId ? '0' : '-1');
  }

  function viewportHeight(): number {
    return scroller.clientHeight || Math.min(MAX_HEIGHT, Math.max(1, rows.ids.length) * ROW_HEIGHT);
  }

  function focusInside(): boolean {
    const active = document.activeElement;
    return !!active && treeEl.contains(active);
  }

  /** Render the rows in the scroll window (plus the focused row), reusing elements by id. */
  function renderWindow(): void {
    const count = rows.ids.length;
    const top = scroller.scrollTop;
    const start = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const stop = Math.min(count, Math.ceil((top + viewportHeight()) / ROW_HEIGHT) + OVERSCAN);
    const want = new Set<number>();
    for (let r = start; r < stop; r++) want.add(idAt(rows, r));
    if (rowOf(rows, focusedId) >= 0 && focusInside()) want.add(focusedId);
    for (const [id, parts] of rendered) {
      if (!want.has(id)) {
        rendered.delete(id);
        parts.el.remove();
        pool.push(parts);
      }
    }
    for (const id of want) {
      let parts = rendered.get(id);
      if (!parts) {
        parts = pool.pop() ?? makeRow();
        fillRow(parts, id);
        syncFlags(parts);
        rendered.set(id, parts);
        treeEl.append(parts.el);
      }
      placeRow(parts, rowOf(rows, id));
    }
  }

  function renderBoundary(): void {
    const count = rows.ids.length;
    const hide = !!expansion.filter || count === 0;
    boundary.hidden = hide;
    if (hide) return;
    const gap = boundaryGap(tree, rows, !!model.get('keep_bn_frozen'), preferredLeaf);
    boundary.style.top = `${gap * ROW_HEIGHT}px`;
    boundary.dataset.gap = String(gap);
    setAttr(boundary, 'aria-valuenow', String(gap));
    setAttr(boundary, 'aria-valuemax', String(count));
    setAttr(
      boundary,
      'aria-valuetext',
      gap >= count ? 'every layer frozen' : `frozen above ${tree.node(idAt(rows, gap)).name}`
    );
    setAttr(boundary, 'aria-disabled', disabled ? 'true' : null);
  }

  function renderSummary(): void {
    const s = tree.summary;
    setText(summaryLabel, summaryText(s));
    barFill.style.width = percent(s.trainable, s.total);
  }

  function renderStatic(): void {
    setAttr(treeEl, 'aria-label', `Layers of ${tree.modelName}`);
    for (const b of [freezeAll, unfreezeAll]) b.disabled = disabled;
    bnBox.disabled = disabled;
    bnBox.checked = !!model.get('keep_bn_frozen');
    badge.hidden = !disabled;
    root.classList.toggle('tw-disabled', disabled);
  }

  /** Visible rows changed (expand, collapse, filter, new tree). */
  function relayout(): void {
    rows = computeVisible(tree, expansion);
    if (rowOf(rows, focusedId) < 0) {
      const v = nearestVisible(tree, rows, focusedId);
      focusedId = v >= 0 ? v : (rows.ids[0] ?? 0);
    }
    const total = rows.ids.length * ROW_HEIGHT;
    spacer.style.height = `${total}px`;
    treeEl.style.height = `${total}px`;
    scroller.style.height = `${Math.min(MAX_HEIGHT, Math.max(1, rows.ids.length) * ROW_HEIGHT)}px`;
    const nothing = rows.ids.length === 0 && filterText.trim() !== '';
    scroller.hidden = nothing;
    empty.hidden = !nothing;
    setText(empty, nothing ? `No layer or class matches “${filterText.trim()}”.` : '');
    renderWindow();
    renderBoundary();
  }

  function renderAll(): void {
    for (const parts of rendered.values()) parts.el.remove();
    rendered.clear();
    pool.length = 0;
    renderStatic();
    renderSummary();
    relayout();
  }

  // ---- focus ---------------------------------------------------------------------------
  function scrollRowIntoView(index: number): void {
    const top = index * ROW_HEIGHT;
    const vh = viewportHeight();
    if (top < scroller.scrollTop) scroller.scrollTop = top;
    else if (top + ROW_HEIGHT > scroller.scrollTop + vh) scroller.scrollTop = top + ROW_HEIGHT - vh;
  }

  function focusRow(index: number): void {
    if (!rows.ids.length) return;
    const r = Math.max(0, Math.min(rows.ids.length - 1, index));
    const previous = rendered.get(focusedId);
    focusedId = idAt(rows, r);
    if (previous) setAttr(previous.el, 'tabindex', '-1');
    scrollRowIntoView(r);
    renderWindow();
    const parts = rendered.get(focusedId);
    parts?.el.focus({ preventScroll: true });
  }

  function refocus(): void {
    const parts = rendered.get(focusedId);
    if (parts && document.activeElement !== parts.el) parts.el.focus({ preventScroll: true });
  }

  // ---- intents -------------------------------------------------------------------------
  function toggleNode(id: number): void {
    if (disabled || tree.node(id).input) return;
    anchorId = id;
    send({ type: 'toggle', id });
  }

  function setExpanded(id: number, open: boolean | null): void {
    const hadFocus = focusInside();
    if (open === null) expansion.toggle(id);
    else expansion.set(id, open);
    relayout();
    if (hadFocus) refocus();
  }

  function runKeyAction(action: KeyAction): void {
    switch (action.type) {
      case 'focus':
        focusRow(action.row);
        break;
      case 'expand':
        setExpanded(action.id, true);
        break;
      case 'collapse':
        setExpanded(action.id, false);
        break;
      case 'toggleExpand':
        setExpanded(action.id, null);
        break;
      case 'toggle':
        toggleNode(action.id);
        break;
    }
  }

  function rowFromEvent(e: Event): RowParts | null {
    const target = e.target as Element | null;
    const rowEl = target?.closest?.('.tw-row') as HTMLElement | null;
    if (!rowEl || !treeEl.contains(rowEl)) return null;
    return rendered.get(Number(rowEl.dataset.id)) ?? null;
  }

  const onTreeClick = (e: MouseEvent) => {
    const parts = rowFromEvent(e);
    if (!parts) return;
    const id = parts.id;
    const target = e.target as Element;
    focusedId = id;
    if (target === parts.box) {
      // The kernel decides the new value: keep the box as it was until `flags` says otherwise.
      e.preventDefault();
      if (disabled) return;
      const msg = e.shiftKey && anchorId !== null ? rangeMessage(tree, rows, anchorId, id) : null;
      if (msg) send(msg);
      else toggleNode(id);
      anchorId = id;
    } else if (target === parts.twisty || parts.twisty.contains(target)) {
      setExpanded(id, null);
    } else if (!e.shiftKey) {
      anchorId = id;
    }
    renderWindow();
    parts.el.focus({ preventScroll: true });
  };

  const onTreeDblClick = (e: MouseEvent) => {
    const parts = rowFromEvent(e);
    if (!parts || e.target === parts.box || e.target === parts.twisty) return;
    if (tree.isContainer(parts.id)) setExpanded(parts.id, null);
  };

  const onTreeKey = (e: KeyboardEvent) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const parts = rowFromEvent(e);
    const row = rowOf(rows, parts ? parts.id : focusedId);
    if (row < 0) return;
    const action = keyAction(e.key, row, tree, rows, expansion);
    if (!action) return;
    e.preventDefault();
    e.stopPropagation(); // keep JupyterLab's notebook shortcuts out of the tree
    runKeyAction(action);
  };

  const onTreeFocusIn = (e: FocusEvent) => {
    const parts = rowFromEvent(e);
    if (parts && parts.id !== focusedId) {
      const previous = rendered.get(focusedId);
      focusedId = parts.id;
      if (previous) setAttr(previous.el, 'tabindex', '-1');
      setAttr(parts.el, 'tabindex', '0');
    }
  };

  const onScroll = () => renderWindow();

  const onFilter = () => {
    if (filter.value === filterText) return;
    filterText = filter.value;
    expansion.setFilter(computeFilter(tree, filterText));
    scroller.scrollTop = 0;
    relayout();
  };
  const onFilterKey = (e: KeyboardEvent) => {
    if (e.key === 'ArrowDown' && rows.ids.length) {
      e.preventDefault();
      focusRow(Math.max(0, rowOf(rows, focusedId)));
    }
    e.stopPropagation();
  };

  const onFreezeAll = () => !disabled && send({ type: 'freeze_all' });
  const onUnfreezeAll = () => !disabled && send({ type: 'unfreeze_all' });
  const onExpandAll = () => {
    expansion.setAll(true);
    relayout();
  };
  const onCollapseAll = () => {
    expansion.setAll(false);
    relayout();
  };
  const onBn = () => {
    model.set('keep_bn_frozen', bnBox.checked);
    model.save_changes();
  };

  // ---- boundary ------------------------------------------------------------------------
  function dropAt(gap: number): void {
    const current = Number(boundary.dataset.gap);
    if (gap === current) return;
    preferredLeaf = leafForGap(tree, rows, gap);
    boundary.style.top = `${gap * ROW_HEIGHT}px`;
    boundary.dataset.gap = String(gap);
    setAttr(boundary, 'aria-valuenow', String(gap));
    send(boundaryMessage(rows, gap));
  }

  function gapAt(clientY: number): number {
    const rect = scroller.getBoundingClientRect();
    return snapToGap(clientY - rect.top + scroller.scrollTop, ROW_HEIGHT, rows.ids.length);
  }

  let scrollTimer: ReturnType<typeof setInterval> | null = null;
  let lastY = 0;
  const stopAutoScroll = () => {
    if (scrollTimer !== null) clearInterval(scrollTimer);
    scrollTimer = null;
  };
  const onDragMove = (e: PointerEvent) => {
    if (!drag) return;
    e.preventDefault();
    lastY = e.clientY;
    drag.gap = gapAt(e.clientY);
    ghost.style.top = `${drag.gap * ROW_HEIGHT}px`;
    const rect = scroller.getBoundingClientRect();
    const edge = ROW_HEIGHT;
    const dir = rect.height > 0 ? (e.clientY < rect.top + edge ? -1 : e.clientY > rect.bottom - edge ? 1 : 0) : 0;
    if (dir && scrollTimer === null) {
      scrollTimer = setInterval(() => {
        scroller.scrollTop += dir * ROW_HEIGHT;
        if (drag) {
          drag.gap = gapAt(lastY);
          ghost.style.top = `${drag.gap * ROW_HEIGHT}px`;
        }
      }, 50);
    } else if (!dir) stopAutoScroll();
  };
  const endDrag = (e: PointerEvent, commit: boolean) => {
    if (!drag) return;
    const gap = e.type === 'pointerup' && typeof e.clientY === 'number' ? gapAt(e.clientY) : drag.gap;
    drag = null;
    stopAutoScroll();
    ghost.hidden = true;
    root.classList.remove('tw-dragging');
    document.removeEventListener('pointermove', onDragMove);
    document.removeEventListener('pointerup', onDragUp);
    document.removeEventListener('pointercancel', onDragCancel);
    if (commit) dropAt(gap);
  };
  const onDragUp = (e: PointerEvent) => endDrag(e, true);
  const onDragCancel = (e: PointerEvent) => endDrag(e, false);
  const onBoundaryDown = (e: PointerEvent) => {
    if (disabled || e.button !== 0 || drag) return;
    e.preventDefault();
    drag = { gap: Number(boundary.dataset.gap), pointerId: e.pointerId };
    lastY = e.clientY;
    boundary.focus({ preventScroll: true });
    try {
      boundary.setPointerCapture?.(e.pointerId);
    } catch {
      /* synthetic events have no active pointer */
    }
    ghost.style.top = `${drag.gap * ROW_HEIGHT}px`;
    ghost.hidden = false;
    root.classList.add('tw-dragging');
    document.addEventListener('pointermove', onDragMove);
    document.addEventListener('pointerup', onDragUp);
    document.addEventListener('pointercancel', onDragCancel);
  };
  const onBoundaryKey = (e: KeyboardEvent) => {
    if (drag && e.key === 'Escape') {
      endDrag(e as unknown as PointerEvent, false);
      return;
    }
    const step = e.key === 'ArrowUp' ? -1 : e.key === 'ArrowDown' ? 1 : 0;
    if (!step) return;
    e.preventDefault();
    e.stopPropagation();
    if (disabled) return;
    const gap = Math.max(0, Math.min(rows.ids.length, Number(boundary.dataset.gap) + step));
    dropAt(gap);
  };

  // ---- model events --------------------------------------------------------------------
  const showFlags = (flags: TreeFlags) => {
    const changed = tree.applyFlags(flags);
    for (const id of changed) {
      const parts = rendered.get(id);
      if (parts) syncFlags(parts);
    }
    renderSummary();
    renderBoundary();
    setText(status, '');
    status.hidden = true;
  };
  const onFlags = () => {
    const flags = flagsFrom(model, tree);
    if (flags) showFlags(flags);
  };
  const onMsg = (content: unknown) => {
    const msg = asMessage<KernelMessage>(content);
    if (msg?.type === 'error') {
      setText(status, String(msg.message ?? 'Error'));
      status.hidden = false;
    }
  };
  const onTree = () => {
    const oldFocus = tree.nodes[focusedId]?.path;
    tree = treeFrom(model);
    expansion = new Expansion(tree);
    expansion.setFilter(computeFilter(tree, filterText));
    const same = tree.nodes.findIndex(nd => nd.path === oldFocus);
    focusedId = Math.max(0, same); // the same layer keeps the focus, else the root
    anchorId = null;
    preferredLeaf = null;
    renderAll();
  };
  const onDisabled = () => {
    disabled = !!model.get('disabled');
    renderStatic();
    for (const parts of rendered.values()) syncFlags(parts);
    renderBoundary();
  };
  const onKeepBn = () => {
    bnBox.checked = !!model.get('keep_bn_frozen');
    renderBoundary();
  };

  status.hidden = true;
  renderAll();

  const listen: [EventTarget, string, EventListener][] = [
    [treeEl, 'click', onTreeClick as EventListener],
    [treeEl, 'dblclick', onTreeDblClick as EventListener],
    [treeEl, 'keydown', onTreeKey as EventListener],
    [treeEl, 'focusin', onTreeFocusIn as EventListener],
    [scroller, 'scroll', onScroll],
    [filter, 'input', onFilter],
    [filter, 'keydown', onFilterKey as EventListener],
    [freezeAll, 'click', onFreezeAll],
    [unfreezeAll, 'click', onUnfreezeAll],
    [expandAll, 'click', onExpandAll],
    [collapseAll, 'click', onCollapseAll],
    [bnBox, 'change', onBn],
    [boundary, 'pointerdown', onBoundaryDown as EventListener],
    [boundary, 'keydown', onBoundaryKey as EventListener]
  ];
  for (const [t, type, fn] of listen) t.addEventListener(type, fn);
  model.on('msg:custom', onMsg);
  model.on('change:tree', onTree);
  model.on('change:flags', onFlags);
  model.on('change:disabled', onDisabled);
  model.on('change:keep_bn_frozen', onKeepBn);

  return () => {
    for (const [t, type, fn] of listen) t.removeEventListener(type, fn);
    if (drag) endDrag(new Event('pointercancel') as PointerEvent, false);
    stopAutoScroll();
    model.off('msg:custom', onMsg);
    model.off('change:tree', onTree);
    model.off('change:flags', onFlags);
    model.off('change:disabled', onDisabled);
    model.off('change:keep_bn_frozen', onKeepBn);
    root.remove();
  };
}

/** The `tree` trait's structure with the `flags` trait's current flags. */
function treeFrom(model: WidgetModel): TreeState {
  const tree = new TreeState(emptyPayload(model.get('tree')));
  const flags = flagsFrom(model, tree);
  if (flags) tree.applyFlags(flags);
  return tree;
}

/** The `flags` trait, for `tree`; null while it describes another structure. */
function flagsFrom(model: WidgetModel, tree: TreeState): TreeFlags | null {
  const flags = model.get('flags') as Partial<TreeFlags> | undefined;
  const state = flags?.state;
  if (!state || state.length !== tree.size) return null;
  return { state, trainable_params: flags.trainable_params ?? {}, summary: flags.summary ?? tree.summary };
}

function emptyPayload(value: unknown): TreePayload {
  const v = (value ?? {}) as Partial<TreePayload>;
  return {
    model_name: v.model_name ?? '',
    columns: v.columns ?? {
      parent: [],
      path: [],
      name: [],
      cls: [],
      kind: [],
      shape: [],
      params: [],
      bn: [],
      input: [],
      full_trainable: []
    },
    state: v.state ?? [],
    trainable_params: v.trainable_params ?? [],
    summary: v.summary ?? { total: 0, trainable: 0, non_trainable: 0 }
  };
}
