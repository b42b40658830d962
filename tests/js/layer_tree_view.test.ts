/** The layer tree view in jsdom with a fake anywidget model. */

import widget from '@tw/widgets/layer_tree';
import { FlagCode } from '@tw/widgets/tree/types';
import { ROW_HEIGHT } from '@tw/widgets/tree/view';
import { afterEach, describe, expect, it } from 'vitest';
import { bigSpec, FakeModel, flatSpec, must, nestedSpec, payload, type Spec, setFlags } from './fixtures';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) must(cleanups.pop())();
  document.body.textContent = '';
});

function mount(spec: Spec, extra: Record<string, unknown> = {}) {
  const p = payload(spec);
  const model = new FakeModel(p, extra);
  const el = document.createElement('div');
  document.body.append(el);
  const cleanup = widget.render({ model, el });
  cleanups.push(cleanup);
  const tree = must(el.querySelector<HTMLElement>('[role="tree"]'));
  const scroller = must(el.querySelector<HTMLElement>('.tw-scroller'));
  const rows = () =>
    Array.from(tree.querySelectorAll<HTMLElement>('[role="treeitem"]')).sort(
      (a, b) => parseFloat(a.style.top) - parseFloat(b.style.top)
    );
  const box = (name: string) => {
    const found = Array.from(tree.querySelectorAll<HTMLInputElement>('input[type="checkbox"]')).filter(
      b => b.getAttribute('aria-label') === name
    );
    return found[0] ?? null;
  };
  const row = (name: string) => box(name)?.closest<HTMLElement>('[role="treeitem"]') ?? null;
  const button = (text: string) =>
    Array.from(el.querySelectorAll('button')).find(b => b.textContent === text) as HTMLButtonElement;
  const separator = () => must(el.querySelector<HTMLElement>('[role="separator"]'));
  const key = (target: Element, k: string, init: KeyboardEventInit = {}) =>
    target.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true, cancelable: true, ...init }));
  const rowNames = () => rows().map(r => must(r.querySelector('input')).getAttribute('aria-label'));
  return { p, model, el, tree, scroller, rows, rowNames, box, row, button, separator, key, cleanup };
}

const Pointer: typeof MouseEvent = globalThis.PointerEvent ?? MouseEvent; // jsdom has no PointerEvent
const pointer = (type: string, clientY: number) =>
  new Pointer(type, { bubbles: true, cancelable: true, clientY, button: 0 });

describe('layer tree view', () => {
  it('renders the tree with roles, names and numbers from its traits alone', () => {
    const v = mount(nestedSpec());
    expect(v.model.sent).toEqual([]); // the flags come in the `flags` trait: nothing to ask for
    expect(v.tree.getAttribute('aria-label')).toBe('Layers of transfer');
    expect(v.rowNames()).toEqual([
      'transfer',
      'input_layer',
      'backbone',
      'block_0',
      'block_1',
      'block_2',
      'classifier'
    ]);
    const root = must(v.row('transfer'));
    expect(root.getAttribute('aria-level')).toBe('1');
    expect(root.getAttribute('aria-expanded')).toBe('true');
    expect(root.getAttribute('aria-checked')).toBe('true');
    expect(root.getAttribute('tabindex')).toBe('0');
    const block = must(v.row('block_1'));
    expect(block.getAttribute('aria-level')).toBe('3');
    expect(block.getAttribute('aria-posinset')).toBe('2');
    expect(block.getAttribute('aria-setsize')).toBe('3');
    expect(block.getAttribute('aria-expanded')).toBe('false');
    expect(block.getAttribute('tabindex')).toBe('-1');
    expect(block.textContent).toContain('Block · 3 layers');
    expect(must(v.row('classifier')).hasAttribute('aria-expanded')).toBe(false);
    const summary = must(v.el.querySelector('[aria-live="polite"]'));
    expect(summary.textContent).toBe('Trainable 354 (100.0%) · Frozen 0 · Total 354');
    expect(must(v.el.querySelector('input[type="search"]')).id).toBe(
      must(Array.from(v.el.querySelectorAll('label')).find(l => l.textContent === 'Filter layers')).htmlFor
    );
    for (const text of ['Freeze all', 'Unfreeze all', 'Expand all', 'Collapse all'])
      expect(v.button(text)).toBeTruthy();
    const header = must(v.el.querySelector('.tw-header')).textContent;
    expect(header).toBe('LayerClassOutput shapeParamsTrainable');
  });

  it('expands a block with its twisty and shows its layers', () => {
    const v = mount(nestedSpec());
    must(must(v.row('block_1')).querySelector('button')).click();
    expect(must(v.row('block_1')).getAttribute('aria-expanded')).toBe('true');
    expect(v.rowNames()).toContain('block_1_bn');
    expect(must(v.row('block_1_bn')).getAttribute('aria-level')).toBe('4');
    v.button('Collapse all').click();
    expect(v.rowNames()).toEqual(['transfer', 'input_layer', 'backbone', 'classifier']);
    v.button('Expand all').click();
    expect(v.rows().length).toBe(v.p.nodes.length);
  });

  it('shows the flags of the `flags` trait, as a page rendered from saved state has them', () => {
    const summary = { total: 160, trainable: 140, non_trainable: 20 };
    // as the kernel writes it: a digit per row; the mixed root's count and d2's
    // (trainable, but a variable of it set apart) listed, the rest implied by the state
    const flags = { state: '210111111', trainable_params: { '0': 128, '3': 8 }, summary };
    const v = mount(flatSpec(), { flags });
    expect(must(v.box('d1')).checked).toBe(false); // the tree trait says trainable; flags say frozen
    expect(must(v.row('flat')).getAttribute('aria-checked')).toBe('mixed');
    const counts = () => v.rows().map(r => must(r.querySelector('.tw-tp')).textContent);
    expect(counts()).toEqual(['128', '20', '0', '8', '20', '20', '20', '20', '20']);
    v.model.set('flags', { state: '000000000', trainable_params: {}, summary });
    expect(must(v.box('d0')).checked).toBe(false);
    expect(must(v.row('flat')).getAttribute('aria-checked')).toBe('false');
    expect(counts()).toEqual(Array(9).fill('0'));
  });

  it('ignores a `flags` trait that describes another structure', () => {
    const v = mount(flatSpec(), { flags: { state: '00', trainable_params: {} } });
    expect(must(v.box('d1')).checked).toBe(true);
  });

  it('clicking a checkbox sends toggle and leaves the value to the kernel', () => {
    const v = mount(flatSpec());
    const d1 = must(v.box('d1'));
    d1.click();
    expect(v.model.last()).toEqual({ type: 'toggle', id: 2 });
    expect(d1.checked).toBe(true); // unchanged until flags arrive
    setFlags(v.model, v.p, {
      ids: [0, 2],
      state: [2, 0],
      trainable_params: [140, 0],
      summary: { total: 160, trainable: 140, non_trainable: 20 }
    });
    expect(d1.checked).toBe(false);
    expect(must(v.row('d1')).getAttribute('aria-checked')).toBe('false');
    expect(must(v.row('flat')).getAttribute('aria-checked')).toBe('mixed');
    expect(must(v.box('flat')).indeterminate).toBe(true);
  });

  it('shift-click sets the visible range to the anchor value', () => {
    const v = mount(flatSpec());
    must(v.box('d1')).click();
    setFlags(v.model, v.p, {
      ids: [2],
      state: [0],
      trainable_params: [0],
      summary: { total: 160, trainable: 140, non_trainable: 20 }
    });
    must(v.box('d4')).dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true, shiftKey: true }));
    expect(v.model.last()).toEqual({ type: 'set', ids: [2, 3, 4, 5], value: false });
  });

  it('keyboard: arrows, Home/End, Right/Left, Enter and Space', () => {
    const v = mount(nestedSpec());
    must(must(v.row('transfer')).querySelector('.tw-name')).dispatchEvent(new MouseEvent('click', { bubbles: true }));
    expect(document.activeElement).toBe(v.row('transfer'));
    v.key(must(document.activeElement), 'ArrowDown');
    expect(document.activeElement).toBe(v.row('input_layer'));
    expect(must(v.row('input_layer')).getAttribute('tabindex')).toBe('0');
    expect(must(v.row('transfer')).getAttribute('tabindex')).toBe('-1');
    v.key(must(document.activeElement), 'ArrowDown');
    v.key(must(document.activeElement), 'ArrowDown');
    expect(document.activeElement).toBe(v.row('block_0'));
    v.key(must(document.activeElement), 'ArrowRight');
    expect(must(v.row('block_0')).getAttribute('aria-expanded')).toBe('true');
    expect(document.activeElement).toBe(v.row('block_0')); // focus survives the re-render
    v.key(must(document.activeElement), 'ArrowRight');
    expect(document.activeElement).toBe(v.row('block_0_conv'));
    v.key(must(document.activeElement), 'ArrowLeft');
    expect(document.activeElement).toBe(v.row('block_0'));
    v.key(must(document.activeElement), 'ArrowLeft');
    expect(must(v.row('block_0')).getAttribute('aria-expanded')).toBe('false');
    v.key(must(document.activeElement), 'Enter');
    expect(must(v.row('block_0')).getAttribute('aria-expanded')).toBe('true');
    v.key(must(document.activeElement), ' ');
    expect(v.model.last()).toEqual({ type: 'toggle', id: v.p.nodes.findIndex(n => n.name === 'block_0') });
    v.key(must(document.activeElement), 'End');
    expect(document.activeElement).toBe(v.row('classifier'));
    v.key(must(document.activeElement), 'Home');
    expect(document.activeElement).toBe(v.row('transfer'));
    v.key(must(document.activeElement), 'ArrowUp');
    expect(document.activeElement).toBe(v.row('transfer'));
    v.key(must(document.activeElement), 'Enter');
    expect(v.rowNames()).toEqual(['transfer']);
    expect(document.activeElement).toBe(v.row('transfer'));
  });

  it('says so when the filter matches nothing, and shows the rows again when cleared', () => {
    const v = mount(nestedSpec());
    const search = must(v.el.querySelector<HTMLInputElement>('input[type="search"]'));
    const empty = must(v.el.querySelector<HTMLElement>('.tw-empty'));
    expect(empty.hidden).toBe(true);
    search.value = '<b>nothing';
    search.dispatchEvent(new Event('input', { bubbles: true }));
    expect(v.rowNames()).toEqual([]);
    expect(empty.hidden).toBe(false);
    expect(empty.getAttribute('role')).toBe('status');
    expect(empty.textContent).toBe('No layer or class matches “<b>nothing”.');
    expect(empty.querySelector('b')).toBeNull(); // the user's text stays text
    expect(v.scroller.hidden).toBe(true);
    search.value = '';
    search.dispatchEvent(new Event('input', { bubbles: true }));
    expect(empty.hidden).toBe(true);
    expect(v.scroller.hidden).toBe(false);
    expect(v.rowNames()).toHaveLength(7);
  });

  it('shows the input layer without a checkbox and puts the boundary below it', () => {
    const v = mount({
      name: 'transfer',
      kind: 'model',
      children: [
        { name: 'image', cls: 'InputLayer', input: true, state: FlagCode.FROZEN },
        { name: 'conv', cls: 'Conv2D', params: 10 },
        { name: 'dense', cls: 'Dense', params: 5 }
      ]
    });
    const image = must(v.row('image'));
    expect(image.dataset.state).toBe('inert');
    const box = must(v.box('image'));
    expect(box.disabled).toBe(true);
    expect(box.style.visibility).toBe('hidden');
    image.click();
    box.click();
    expect(v.model.sent).toEqual([]); // nothing to toggle
    expect(v.separator().dataset.gap).toBe('2'); // above conv: the input row is not "trainable"
  });

  it('filters by name or class, shows ancestors, hides the boundary', () => {
    const v = mount(nestedSpec());
    const search = must(v.el.querySelector<HTMLInputElement>('input[type="search"]'));
    search.value = 'Block_1';
    search.dispatchEvent(new Event('input', { bubbles: true }));
    expect(v.rowNames()).toEqual(['transfer', 'backbone', 'block_1']);
    expect(must(v.row('block_1')).getAttribute('aria-expanded')).toBe('false');
    expect(v.separator().hidden).toBe(true);
    search.value = 'relu';
    search.dispatchEvent(new Event('input', { bubbles: true }));
    expect(v.rowNames()).toEqual([
      'transfer',
      'backbone',
      'block_0',
      'block_0_relu',
      'block_1',
      'block_1_relu',
      'block_2',
      'block_2_relu'
    ]);
    search.value = '';
    search.dispatchEvent(new Event('input', { bubbles: true }));
    expect(v.separator().hidden).toBe(false);
    expect(v.rowNames()).toEqual([
      'transfer',
      'input_layer',
      'backbone',
      'block_0',
      'block_1',
      'block_2',
      'classifier'
    ]);
  });

  it('disabled: read-only badge, disabled controls, still navigable', () => {
    const v = mount(flatSpec(), { disabled: true });
    expect(must(v.box('d0')).disabled).toBe(true);
    expect(v.button('Freeze all').disabled).toBe(true);
    expect(v.button('Unfreeze all').disabled).toBe(true);
    const badge = must(Array.from(v.el.querySelectorAll('span')).find(s => s.textContent === 'Read-only'));
    expect(badge.hidden).toBe(false);
    v.key(must(v.row('flat')), ' ');
    v.key(v.separator(), 'ArrowDown');
    v.separator().dispatchEvent(pointer('pointerdown', ROW_HEIGHT));
    document.dispatchEvent(pointer('pointerup', 5 * ROW_HEIGHT));
    expect(v.model.sent).toEqual([]);
    v.key(must(v.row('flat')), 'Enter');
    expect(must(v.row('flat')).getAttribute('aria-expanded')).toBe('false');
    v.model.set('disabled', false);
    expect(must(v.box('flat')).disabled).toBe(false);
    expect(badge.hidden).toBe(true);
  });

  it('virtualises: a 2,000-node tree creates at most ~100 rows, scrolling moves the window', () => {
    const v = mount(bigSpec(100, 19));
    v.button('Expand all').click();
    const spacer = must(v.el.querySelector<HTMLElement>('.tw-spacer'));
    expect(spacer.style.height).toBe(`${2001 * ROW_HEIGHT}px`);
    expect(v.rows().length).toBeGreaterThan(5);
    expect(v.rows().length).toBeLessThanOrEqual(100);
    expect(v.el.querySelectorAll('*').length).toBeLessThan(1500);
    let top = 1000 * ROW_HEIGHT;
    Object.defineProperty(v.scroller, 'scrollTop', { get: () => top, set: x => (top = x), configurable: true });
    v.scroller.dispatchEvent(new Event('scroll'));
    const visible = v.rows();
    expect(visible.length).toBeLessThanOrEqual(100);
    const indexes = visible.map(r => parseFloat(r.style.top) / ROW_HEIGHT);
    expect(Math.min(...indexes)).toBeGreaterThan(980);
    expect(indexes).toContain(1000);
    // the focused row stays rendered (and focused) when it scrolls out of the window
    const focused = must(v.rows()[5]);
    focused.focus();
    top = 0;
    v.scroller.dispatchEvent(new Event('scroll'));
    expect(focused.isConnected).toBe(true);
    expect(document.activeElement).toBe(focused);
    v.key(focused, 'ArrowDown');
    expect(parseFloat((document.activeElement as HTMLElement).style.top)).toBe(
      parseFloat(focused.style.top) + ROW_HEIGHT
    );
  });

  it('renders a hostile layer name as text', () => {
    const name = '<img src=x onerror=alert(1)>';
    const v = mount({ name: 'xss', kind: 'model', children: [{ name }] });
    expect(v.el.querySelector('img')).toBeNull();
    expect(v.box(name)).not.toBeNull();
    expect(Array.from(v.el.querySelectorAll('.tw-name')).some(s => s.textContent === name)).toBe(true);
    v.model.receive({ type: 'error', message: '<b>boom</b>' });
    const alert = must(v.el.querySelector<HTMLElement>('[role="alert"]'));
    expect(alert.textContent).toBe('<b>boom</b>');
    expect(alert.hidden).toBe(false);
    expect(v.el.querySelector('b')).toBeNull();
    setFlags(v.model, v.p, { ids: [0], state: [FlagCode.FROZEN], trainable_params: [0] }); // the next change
    expect(alert.hidden).toBe(true);
    expect(alert.textContent).toBe('');
  });

  it('a change of the flags trait redraws only the rows that changed, in place', async () => {
    const v = mount(flatSpec());
    const before = new Map(v.rows().map(r => [r.dataset.id, r]));
    const touched = new Set<string>();
    const observer = new MutationObserver(records => {
      for (const rec of records) {
        const r =
          (rec.target as Element).closest?.('[role="treeitem"]') ??
          rec.target.parentElement?.closest('[role="treeitem"]');
        if (r) touched.add(must((r as HTMLElement).dataset.id));
      }
    });
    observer.observe(v.tree, { subtree: true, attributes: true, childList: true, characterData: true });
    setFlags(v.model, v.p, {
      ids: [0, 4],
      state: [2, 0],
      trainable_params: [140, 0],
      summary: { total: 160, trainable: 140, non_trainable: 20 }
    });
    await Promise.resolve();
    observer.disconnect();
    expect([...touched].sort()).toEqual(['0', '4']);
    for (const r of v.rows()) expect(before.get(r.dataset.id)).toBe(r);
    expect(must(v.row('d3')).getAttribute('aria-checked')).toBe('false');
    expect(must(v.row('d3')).dataset.state).toBe('frozen');
    expect(must(must(v.row('d3')).querySelector('.tw-tp')).textContent).toBe('0');
    expect(must(v.el.querySelector('[aria-live]')).textContent).toContain('Frozen 20');
  });

  it('boundary: drawn above leaf b, dragged with pointer events, moved with the keyboard', () => {
    const v = mount(flatSpec());
    const sep = v.separator();
    expect(sep.getAttribute('aria-label')).toBe('Freeze boundary');
    expect(sep.getAttribute('aria-orientation')).toBe('horizontal');
    expect(sep.getAttribute('aria-valuenow')).toBe('1'); // above d0
    expect(sep.getAttribute('aria-valuemax')).toBe('9');
    expect(sep.textContent).toBe('frozen above / trainable below');
    sep.dispatchEvent(pointer('pointerdown', ROW_HEIGHT));
    const ghost = must(v.el.querySelector<HTMLElement>('.tw-ghost'));
    expect(ghost.hidden).toBe(false);
    document.dispatchEvent(pointer('pointermove', 3 * ROW_HEIGHT));
    expect(ghost.style.top).toBe(`${3 * ROW_HEIGHT}px`);
    document.dispatchEvent(pointer('pointermove', 4 * ROW_HEIGHT + 2));
    document.dispatchEvent(pointer('pointerup', 4 * ROW_HEIGHT + 2));
    expect(ghost.hidden).toBe(true);
    expect(v.model.last()).toEqual({ type: 'boundary', id: 4 }); // d3
    // the kernel answers: d0..d2 frozen
    setFlags(v.model, v.p, {
      ids: [0, 1, 2, 3],
      state: [2, 0, 0, 0],
      trainable_params: [100, 0, 0, 0],
      summary: { total: 160, trainable: 100, non_trainable: 60 }
    });
    expect(sep.getAttribute('aria-valuenow')).toBe('4');
    v.key(sep, 'ArrowUp');
    expect(v.model.last()).toEqual({ type: 'boundary', id: 3 });
    expect(sep.getAttribute('aria-valuenow')).toBe('3');
    sep.dispatchEvent(pointer('pointerdown', 3 * ROW_HEIGHT));
    document.dispatchEvent(pointer('pointerup', 50 * ROW_HEIGHT));
    expect(v.model.last()).toEqual({ type: 'freeze_all' });
  });

  it('toolbar: freeze/unfreeze all and keep BatchNorm frozen', () => {
    const v = mount(flatSpec());
    v.button('Freeze all').click();
    expect(v.model.last()).toEqual({ type: 'freeze_all' });
    v.button('Unfreeze all').click();
    expect(v.model.last()).toEqual({ type: 'unfreeze_all' });
    const bn = must(
      must(
        Array.from(v.el.querySelectorAll('label')).find(l => l.textContent === 'Keep BatchNorm frozen')
      ).querySelector('input')
    );
    expect(bn.checked).toBe(true);
    bn.click();
    expect(v.model.get('keep_bn_frozen')).toBe(false);
    expect(v.model.saves).toBe(1);
  });

  it('two views of one model stay in step; cleanup removes every listener', () => {
    const a = mount(flatSpec());
    const el2 = document.createElement('div');
    document.body.append(el2);
    const cleanup2 = widget.render({ model: a.model, el: el2 });
    setFlags(a.model, a.p, {
      ids: [1],
      state: [0],
      trainable_params: [0],
      summary: { total: 160, trainable: 140, non_trainable: 20 }
    });
    const box2 = must(Array.from(el2.querySelectorAll('input')).find(b => b.getAttribute('aria-label') === 'd0'));
    expect(box2.checked).toBe(false);
    expect(must(a.box('d0')).checked).toBe(false);
    cleanup2();
    expect(el2.childElementCount).toBe(0);
    a.cleanup();
    expect(a.model.listenerCount()).toBe(0);
  });

  it('rebuilds when the tree trait changes', () => {
    const v = mount(flatSpec(3));
    v.model.set('tree', payload(flatSpec(5)));
    expect(v.rowNames()).toEqual(['flat', 'd0', 'd1', 'd2', 'd3', 'd4']);
  });
});
