/**
 * The head designer view: plain DOM, thin. It renders the kernel's `state` and
 * sends intents; validation, preview and applying happen in the kernel.
 * Every model-supplied or user string is written with textContent, never as HTML.
 */

import { FLIP_MODES, type Value } from '../shared/contract';
import { asMessage, h, type WidgetModel } from '../shared/dom';
import {
  fieldKey,
  fieldsOf,
  formatInt,
  layerLabel,
  lossHint,
  outputText,
  parseList,
  parseNumber,
  plural,
  rowError,
  showLearningRate,
  showValue,
  statusText,
  taskLabel,
  totalsText
} from './format';
import { gapAt, moveTarget, stepTarget } from './reorder';
import type { HeadState, KernelMessage, Row, Section, ViewMessage } from './types';

let uid = 0;

export function renderHeadDesigner({ model, el }: { model: WidgetModel; el: HTMLElement }): () => void {
  const n = ++uid;
  let fieldSeq = 0;
  const send = (msg: ViewMessage) => model.send(msg);
  const root = h('div', 'tw-widget tw-head-designer');
  el.append(root);
  const alert = h('div', 'tw-hd-alert', undefined, { role: 'alert' });
  alert.hidden = true;
  let drag: { section: Section; from: number; gap: number; list: HTMLElement; pointerId: number } | null = null;

  const locked = (): string | null => {
    if (model.get('read_only')) return 'Read-only';
    if (model.get('disabled')) return 'Editing is disabled while the model trains';
    return null;
  };

  // ---- building blocks ----------------------------------------------------------------
  const button = (text: string, cls: string, onClick: () => void, attrs: Record<string, string> = {}) => {
    const b = h('button', `tw-button ${cls}`, text, { type: 'button', ...attrs });
    b.addEventListener('click', onClick);
    return b;
  };

  /** A labelled control with its inline error (aria-invalid + aria-describedby). */
  const field = (
    label: string,
    key: string,
    control: HTMLInputElement | HTMLSelectElement,
    error: string | undefined,
    hint?: string
  ) => {
    const id = `tw-hd-${n}-${++fieldSeq}`;
    control.id = id;
    control.dataset.key = key;
    const wrap = h('div', 'tw-hd-field');
    wrap.append(h('label', 'tw-hd-label', label, { for: id }), control);
    const described: string[] = [];
    if (hint) {
      const hintEl = h('span', 'tw-hd-hint', hint, { id: `${id}-hint` });
      wrap.append(hintEl);
      described.push(hintEl.id);
    }
    if (error) {
      control.setAttribute('aria-invalid', 'true');
      const err = h('span', 'tw-hd-error', error, { id: `${id}-error` });
      wrap.append(err);
      described.push(err.id);
      wrap.classList.add('tw-hd-invalid');
    }
    if (described.length) control.setAttribute('aria-describedby', described.join(' '));
    return wrap;
  };

  const textInput = (value: unknown, onCommit: (text: string) => void, attrs: Record<string, string> = {}) => {
    const input = h('input', 'tw-hd-input', undefined, {
      type: 'text',
      autocomplete: 'off',
      spellcheck: 'false',
      ...attrs
    });
    input.value = showValue(value);
    input.addEventListener('change', () => onCommit(input.value));
    input.addEventListener('keydown', e => {
      if (e.key === 'Enter') {
        e.preventDefault();
        onCommit(input.value);
      }
    });
    return input;
  };

  const select = (options: [string, string][], value: string, onChange: (v: string) => void) => {
    const s = h('select', 'tw-hd-select');
    for (const [v, text] of options) {
      const o = h('option', undefined, text, { value: v });
      if (v === value) o.selected = true;
      s.append(o);
    }
    if (!options.some(([v]) => v === value)) {
      const o = h('option', undefined, value, { value });
      o.selected = true;
      s.append(o);
    }
    s.addEventListener('change', () => onChange(s.value));
    return s;
  };

  // ---- rows ------------------------------------------------------------------------------
  /** Row `index` of `count` in `section`. */
  const rowEl = (state: HeadState, section: Section, row: Row, index: number, count: number, preview: boolean) => {
    const label = layerLabel(row.type);
    const name = `${index + 1}. ${label}`;
    const li = h('li', 'tw-hd-row', undefined, { 'aria-label': name });
    li.dataset.id = String(row.id);
    const main = h('div', 'tw-hd-row-main');
    const handle = h('button', 'tw-hd-handle', '⠿', {
      type: 'button',
      'aria-label': `Drag ${name} to reorder (Alt+Arrow keys move it)`,
      title: 'Drag to reorder'
    });
    handle.dataset.key = `${section}:${row.id}:handle`;
    handle.addEventListener('pointerdown', e => startDrag(e, section, index, li.parentElement as HTMLElement));
    handle.addEventListener('keydown', e => {
      if (e.altKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown')) {
        e.preventDefault();
        const to = stepTarget(index, e.key === 'ArrowUp' ? -1 : 1, count);
        if (to !== null) send({ type: 'move', section, id: row.id, to });
      }
    });
    main.append(handle, h('span', 'tw-hd-type', label));
    const fields = h('div', 'tw-hd-fields');
    for (const [fname, flabel, kind] of fieldsOf(row.type)) {
      const key = fieldKey(section, index, fname);
      const value = row[fname];
      const commit = (v: Value) => send({ type: 'set', section, id: row.id, field: fname, value: v });
      let control: HTMLInputElement | HTMLSelectElement;
      if (kind === 'number') {
        // a kernel penalty is optional: blank is none, and the title says what it is
        const penalty = fname === 'kernel_l1' || fname === 'kernel_l2';
        const attrs: Record<string, string> = penalty
          ? { inputmode: 'decimal', placeholder: 'none', title: `${flabel} penalty factor on the kernel` }
          : { inputmode: 'decimal' };
        control = textInput(value, t => commit(parseNumber(t)), attrs);
      } else if (kind === 'activation') {
        const opts: [string, string][] = [
          ['', 'none (linear)'],
          ...state.options.activations.map(a => [a, a] as [string, string])
        ];
        control = select(opts, String(value ?? ''), v => commit(v === '' ? null : v));
      } else {
        control = select(
          FLIP_MODES.map(m => [m, m.replace(/_/g, ' ')] as [string, string]),
          String(value ?? 'horizontal'),
          v => commit(v)
        );
      }
      control.setAttribute('aria-label', `${flabel}, ${name}`);
      fields.append(field(flabel, key, control, state.errors[key]));
    }
    main.append(fields);
    const actions = h('div', 'tw-hd-actions');
    const up = button('↑', 'tw-hd-up', () => send({ type: 'move', section, id: row.id, to: index - 1 }), {
      'aria-label': `Move ${name} up`,
      title: 'Move up'
    });
    up.disabled = index === 0;
    const down = button('↓', 'tw-hd-down', () => send({ type: 'move', section, id: row.id, to: index + 1 }), {
      'aria-label': `Move ${name} down`,
      title: 'Move down'
    });
    down.disabled = index === count - 1;
    const remove = button('Remove', 'tw-hd-remove', () => send({ type: 'remove', section, id: row.id }), {
      'aria-label': `Remove ${name}`
    });
    up.dataset.key = `${section}:${row.id}:up`;
    down.dataset.key = `${section}:${row.id}:down`;
    actions.append(up, down, remove);
    main.append(actions);
    li.append(main);
    const err = rowError(state, section, index);
    if (err) li.append(h('div', 'tw-hd-error tw-hd-row-error', err));
    if (preview) li.append(previewEl(state, index));
    return li;
  };

  const previewEl = (state: HeadState, i: number) => {
    const p = state.preview?.[i];
    const div = h('div', 'tw-hd-preview');
    if (!p) {
      div.hidden = true; // no preview until the head is valid (the footer says so)
      return div;
    }
    div.append(
      h('span', 'tw-hd-shape', `→ ${p.shape}`),
      h(
        'span',
        'tw-hd-params',
        plural(p.params, 'param') + (p.trainable !== p.params ? ` (${formatInt(p.trainable)} trainable)` : '')
      )
    );
    return div;
  };

  const palette = (section: Section, types: string[], label: string) => {
    const div = h('div', 'tw-hd-palette', undefined, { role: 'group', 'aria-label': label });
    div.append(h('span', 'tw-hd-palette-label', label));
    for (const t of types) {
      div.append(
        button(`+ ${layerLabel(t)}`, 'tw-hd-add', () => send({ type: 'add', section, layer: t }), {
          'aria-label': `Add ${layerLabel(t)}${section === 'augmentation' ? ' augmentation' : ' layer'}`
        })
      );
    }
    return div;
  };

  // ---- drag ------------------------------------------------------------------------------
  const indicator = h('div', 'tw-hd-drop', undefined, { 'aria-hidden': 'true' });
  const rectsOf = (list: HTMLElement): [number, number][] =>
    Array.from(list.querySelectorAll<HTMLElement>(':scope > .tw-hd-row')).map(r => {
      const b = r.getBoundingClientRect();
      return [b.top, b.bottom];
    });
  const showIndicator = () => {
    if (!drag) return;
    const rows = Array.from(drag.list.querySelectorAll<HTMLElement>(':scope > .tw-hd-row'));
    const listTop = drag.list.getBoundingClientRect().top;
    const ref = rows[drag.gap];
    const last = rows[rows.length - 1];
    const y = ref ? ref.getBoundingClientRect().top : last ? last.getBoundingClientRect().bottom : listTop;
    indicator.style.top = `${y - listTop - 1}px`;
    if (indicator.parentElement !== drag.list) drag.list.append(indicator);
  };
  const onMove = (e: PointerEvent) => {
    if (!drag) return;
    drag.gap = gapAt(rectsOf(drag.list), e.clientY);
    showIndicator();
  };
  const endDrag = (e: PointerEvent, commit: boolean) => {
    if (!drag) return;
    const d = drag;
    drag = null;
    document.removeEventListener('pointermove', onMove);
    document.removeEventListener('pointerup', onUp);
    document.removeEventListener('pointercancel', onCancel);
    indicator.remove();
    root.classList.remove('tw-hd-dragging');
    if (!commit) return;
    const gap = typeof e.clientY === 'number' ? gapAt(rectsOf(d.list), e.clientY) : d.gap;
    const rows: Row[] = (model.get('state') as HeadState | null | undefined)?.[d.section] ?? [];
    const to = moveTarget(d.from, gap, rows.length);
    const row = rows[d.from];
    if (to !== null && row) send({ type: 'move', section: d.section, id: row.id, to });
  };
  const onUp = (e: PointerEvent) => endDrag(e, true);
  const onCancel = (e: PointerEvent) => endDrag(e, false);
  const startDrag = (e: PointerEvent, section: Section, from: number, list: HTMLElement) => {
    if (locked() || e.button !== 0 || drag) return;
    e.preventDefault();
    drag = { section, from, gap: from, list, pointerId: e.pointerId };
    root.classList.add('tw-hd-dragging');
    showIndicator();
    document.addEventListener('pointermove', onMove);
    document.addEventListener('pointerup', onUp);
    document.addEventListener('pointercancel', onCancel);
  };

  // ---- whole view ----------------------------------------------------------------------
  const render = () => {
    const state = model.get('state') as HeadState | null | undefined;
    if (!state?.layers) return; // not sent yet
    // Keep focus (and the caret) on the same control across re-renders.
    const active = document.activeElement as HTMLElement | null;
    const focusKey = active && root.contains(active) ? active.dataset.key : undefined;
    fieldSeq = 0;
    const lock = locked();
    root.textContent = '';

    const header = h('div', 'tw-header');
    header.append(
      h('span', 'tw-title', 'Head designer'),
      h('span', 'tw-hd-base', `on ${state.base.name} · features ${state.base.output_shape}`)
    );
    if (lock) header.append(h('span', 'tw-badge', lock === 'Read-only' ? 'Read-only' : 'Training'));
    root.append(header);

    // task and classes
    const task = h('fieldset', 'tw-hd-section tw-hd-task');
    task.append(h('legend', undefined, 'Task'));
    const taskRow = h('div', 'tw-hd-fields');
    taskRow.append(
      field(
        'Task',
        'head.task',
        select(
          state.options.tasks.map(t => [t, taskLabel(t)] as [string, string]),
          state.task,
          v => send({ type: 'field', field: 'task', value: v })
        ),
        state.errors['head.task']
      )
    );
    const classesLabel = state.task === 'regression' ? 'Outputs' : 'Classes';
    const classes = textInput(
      state.num_classes,
      t => send({ type: 'field', field: 'num_classes', value: parseNumber(t) }),
      {
        inputmode: 'numeric',
        placeholder: state.task === 'binary' ? '2' : state.task === 'regression' ? '1' : ''
      }
    );
    taskRow.append(field(classesLabel, 'head.num_classes', classes, state.errors['head.num_classes']));
    const names = textInput(
      state.class_names,
      t => send({ type: 'field', field: 'class_names', value: parseList(t) }),
      {
        placeholder: 'optional: cat, dog, ...'
      }
    );
    names.classList.add('tw-hd-wide');
    taskRow.append(
      field('Class names', 'head.class_names', names, state.errors['head.class_names'], 'comma-separated')
    );
    task.append(taskRow);
    root.append(task);

    // presets
    const presets = h('div', 'tw-hd-presets', undefined, { role: 'group', 'aria-label': 'Presets' });
    presets.append(h('span', 'tw-hd-palette-label', 'Presets'));
    for (const p of state.options.presets) {
      presets.append(
        button(p.label, 'tw-hd-preset', () => send({ type: 'preset', name: p.name }), { title: p.description })
      );
    }
    root.append(presets);

    // augmentation (before the base)
    const aug = h('fieldset', 'tw-hd-section tw-hd-augmentation');
    aug.append(h('legend', undefined, 'Augmentation (before the base, training only)'));
    const augList = h('ol', 'tw-hd-list', undefined, { 'aria-label': 'Augmentation layers' });
    const augRows = state.augmentation;
    for (const [i, row] of augRows.entries()) {
      augList.append(rowEl(state, 'augmentation', row, i, augRows.length, false));
    }
    if (!state.augmentation.length) aug.append(h('p', 'tw-hd-muted tw-hd-empty', 'No augmentation.'));
    aug.append(augList, palette('augmentation', state.options.augmentation, 'Add augmentation'));
    root.append(aug);

    // head layers
    const head = h('fieldset', 'tw-hd-section tw-hd-head');
    head.append(h('legend', undefined, 'Head layers'));
    const baseRow = h('div', 'tw-hd-fixed tw-hd-base-row');
    baseRow.append(
      h('span', 'tw-hd-type', `Base · ${state.base.name}`),
      h(
        'span',
        'tw-hd-preview',
        `→ ${state.base.output_shape} · ${plural(state.base.params, 'param')}, ${formatInt(state.base.trainable)} trainable`
      )
    );
    head.append(baseRow);
    const list = h('ol', 'tw-hd-list', undefined, { 'aria-label': 'Head layers' });
    for (const [i, row] of state.layers.entries()) {
      list.append(rowEl(state, 'layers', row, i, state.layers.length, true));
    }
    head.append(list);
    const listErr = state.errors['head.layers'];
    if (listErr) head.append(h('div', 'tw-hd-error tw-hd-row-error', listErr));
    const out = h('div', 'tw-hd-fixed tw-hd-output', undefined, { 'aria-label': 'Output layer' });
    out.append(h('span', 'tw-hd-type', outputText(state)), h('span', 'tw-hd-muted', 'follows from the task'));
    out.append(previewEl(state, state.layers.length));
    head.append(out);
    head.append(palette('layers', state.options.layers, 'Add layer'));
    root.append(head);

    // compile
    const comp = h('fieldset', 'tw-hd-section tw-hd-compile');
    comp.append(h('legend', undefined, 'Compile'));
    const compRow = h('div', 'tw-hd-fields');
    compRow.append(
      field(
        'Optimizer',
        'training.optimizer',
        select(
          state.options.optimizers.map(o => [o, o] as [string, string]),
          state.optimizer,
          v => send({ type: 'field', field: 'optimizer', value: v })
        ),
        [state.errors['training.optimizer'], state.errors['training.optimizer_args']].filter(Boolean).join('; ') ||
          undefined,
        state.recipe.optimizer_args ? `with ${state.recipe.optimizer_args}` : undefined
      )
    );
    // Shown with its exponent, rounded to 3 digits; committing the shown text unchanged
    // sends nothing, so the rounding never replaces the kernel's exact value.
    const lrShown = showLearningRate(state.learning_rate);
    compRow.append(
      field(
        'Learning rate',
        'training.learning_rate',
        textInput(
          lrShown,
          t => {
            if (t.trim() !== lrShown) send({ type: 'field', field: 'learning_rate', value: parseNumber(t) });
          },
          { inputmode: 'decimal' }
        ),
        state.errors['training.learning_rate'],
        state.recipe.lr_schedule ? `start of ${state.recipe.lr_schedule}` : undefined
      )
    );
    const lossOpts: [string, string][] = [
      ['', `auto: ${state.defaults.loss ?? '—'}`],
      ...state.options.losses.map(l => [l, l] as [string, string])
    ];
    compRow.append(
      field(
        'Loss',
        'head.loss',
        select(lossOpts, state.loss ?? '', v => send({ type: 'field', field: 'loss', value: v === '' ? null : v })),
        state.errors['head.loss'],
        lossHint(state.recipe)
      )
    );
    const metricErrors = Object.entries(state.errors)
      .filter(([k]) => k === 'head.metrics' || k.startsWith('head.metrics['))
      .map(([, v]) => v);
    const metrics = textInput(state.metrics, t => send({ type: 'field', field: 'metrics', value: parseList(t) }), {
      placeholder: `auto: ${state.defaults.metrics.join(', ')}`
    });
    metrics.classList.add('tw-hd-wide');
    compRow.append(
      field(
        'Metrics',
        'head.metrics',
        metrics,
        metricErrors.length ? metricErrors.join('; ') : undefined,
        'comma-separated; blank: from the task'
      )
    );
    comp.append(compRow);
    root.append(comp);

    // totals and status
    const footer = h('div', 'tw-hd-footer');
    footer.append(h('span', 'tw-hd-totals', totalsText(state)));
    const status = h('span', `tw-hd-status ${state.applied ? 'tw-hd-ok' : 'tw-hd-bad'}`, statusText(state, lock), {
      role: 'status'
    });
    footer.append(status);
    root.append(footer, alert);

    if (lock) {
      for (const c of Array.from(
        root.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLButtonElement>('input, select, button')
      )) {
        c.disabled = true;
      }
    }
    if (focusKey) {
      const again = Array.from(root.querySelectorAll<HTMLElement>('[data-key]')).find(e => e.dataset.key === focusKey);
      if (again && !(again as HTMLButtonElement).disabled) again.focus();
    }
  };

  const onMsg = (content: unknown) => {
    const msg = asMessage<KernelMessage>(content);
    if (!msg) return;
    if (msg.type === 'ok') {
      alert.textContent = '';
      alert.hidden = true;
    } else if (msg.type === 'error') {
      alert.textContent = String(msg.message ?? 'Error');
      alert.hidden = false;
    }
  };

  model.on('change:state', render);
  model.on('change:read_only', render);
  model.on('change:disabled', render);
  model.on('msg:custom', onMsg);
  render();
  send({ type: 'hello' });

  return () => {
    if (drag) endDrag(new Event('pointercancel') as PointerEvent, false);
    model.off('change:state', render);
    model.off('change:read_only', render);
    model.off('change:disabled', render);
    model.off('msg:custom', onMsg);
    root.remove();
  };
}
