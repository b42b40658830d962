/**
 * The data view: examples per class as bars (training and validation), warnings,
 * thumbnails per class fetched a page at a time when the class scrolls into view,
 * and the background checks (image-folder problems, train/validation duplicates).
 * Every name and path is written with textContent.
 */
import type { DataChecks, DataKernelMessage, DataSummary, DataViewMessage, ThumbsMessage } from '../shared/contract';
import { asMessage, h, type WidgetModel } from '../shared/dom';
import { ImageUrls, pairBuffers, thumbFigure, whenVisible } from './thumbs';

type Split = 'train' | 'validation';

export function renderDataView({ model, el }: { model: WidgetModel; el: HTMLElement }): () => void {
  const send = (msg: DataViewMessage) => model.send(msg);
  const root = h('div', 'tw-widget tw-data-view');
  el.append(root);
  const urls = new ImageUrls();
  let split: Split = 'train';
  // per split and class: the next page to ask for, and the grid it goes to
  let grids = new Map<string, { grid: HTMLElement; more: HTMLButtonElement; next: number; waiting: boolean }>();

  const header = h('div', 'tw-header');
  const subtitle = h('span', 'tw-dv-muted');
  header.append(h('span', 'tw-title', 'Data'), subtitle);
  const warnings = h('ul', 'tw-dv-warnings', undefined, { 'aria-label': 'Warnings about the data' });
  const counts = h('table', 'tw-dv-counts');
  const splitBar = h('div', 'tw-dv-splits', undefined, { role: 'group', 'aria-label': 'Show thumbnails of' });
  // Focusable so a keyboard can scroll it (classes whose page has not come have nothing to focus).
  const classes = h('div', 'tw-dv-classes', undefined, {
    role: 'region',
    tabindex: '0',
    'aria-label': 'Images per class'
  });
  const checks = h('section', 'tw-dv-checks', undefined, { 'aria-label': 'Data checks' });
  const errorLine = h('div', 'tw-dv-error', undefined, { role: 'alert' });
  errorLine.hidden = true;
  root.append(header, warnings, counts, splitBar, classes, checks, errorLine);

  const summary = () => (model.get('summary') ?? {}) as Partial<DataSummary>;

  const renderCounts = () => {
    const s = summary();
    const names = s.classes ?? [];
    const train = s.train ?? [];
    const val = s.validation ?? null;
    const nTrain = train.reduce((a, b) => a + b, 0);
    const nVal = val ? val.reduce((a, b) => a + b, 0) : 0;
    const shape = (s.image_shape ?? []).join('×');
    subtitle.textContent = `${nTrain} training${val ? `, ${nVal} validation` : ''} images, ${shape}${s.folder ? ` — ${s.folder}` : ''}`;
    warnings.replaceChildren(...(s.warnings ?? []).map(w => h('li', 'tw-dv-warning', w)));
    warnings.hidden = (s.warnings ?? []).length === 0;
    const max = Math.max(1, ...train, ...(val ?? []));
    counts.replaceChildren();
    counts.append(h('caption', 'tw-dv-caption', 'Examples per class'));
    const head = h('tr');
    head.append(h('th', undefined, 'Class', { scope: 'col' }), h('th', undefined, 'Training', { scope: 'col' }));
    if (val) head.append(h('th', undefined, 'Validation', { scope: 'col' }));
    counts.append(h('thead'), h('tbody'));
    counts.tHead?.append(head);
    names.forEach((name, i) => {
      const row = h('tr');
      row.append(h('th', 'tw-dv-class', name, { scope: 'row' }), barCell(train[i] ?? 0, max, 'train'));
      if (val) row.append(barCell(val[i] ?? 0, max, 'val'));
      counts.tBodies[0]?.append(row);
    });
    splitBar.replaceChildren();
    splitBar.hidden = !val; // one split: nothing to choose
    for (const which of val ? (['train', 'validation'] as Split[]) : (['train'] as Split[])) {
      const b = h('button', 'tw-button tw-dv-split', which === 'train' ? 'Training images' : 'Validation images', {
        type: 'button',
        'aria-pressed': String(which === split),
        'data-split': which
      });
      b.addEventListener('click', () => {
        const focused = b === el.ownerDocument.activeElement;
        split = which;
        renderCounts();
        renderClasses();
        if (focused) splitBar.querySelector<HTMLButtonElement>(`[data-split="${which}"]`)?.focus(); // re-rendered
      });
      splitBar.append(b);
    }
  };

  const observe = whenVisible(root, target => {
    const key = (target as HTMLElement).dataset.key;
    if (key) ask(key);
  });

  const ask = (key: string) => {
    const entry = grids.get(key);
    if (!entry || entry.waiting) return;
    entry.waiting = true;
    entry.more.setAttribute('aria-busy', 'true'); // not disabled: that would drop its keyboard focus
    const [which, cls] = key.split(':');
    send({ type: 'thumbs', split: which as Split, cls: Number(cls), page: entry.next });
  };

  const renderClasses = () => {
    const s = summary();
    const names = s.classes ?? [];
    const perClass = (split === 'train' ? s.train : s.validation) ?? [];
    urls.revokeAll();
    grids = new Map();
    classes.replaceChildren();
    names.forEach((name, cls) => {
      const key = `${split}:${cls}`;
      const section = h('section', 'tw-dv-class-row', undefined, { 'aria-label': `Class ${name}` });
      section.dataset.key = key;
      const title = h('div', 'tw-dv-class-title');
      title.append(h('span', 'tw-dv-class-name', name), h('span', 'tw-dv-muted', `${perClass[cls] ?? 0} images`));
      const grid = h('div', 'tw-dv-grid', undefined, { role: 'list' });
      const more = h('button', 'tw-button tw-dv-more', 'More', {
        type: 'button',
        'aria-label': `More images of ${name}`
      });
      more.hidden = true;
      more.addEventListener('click', () => ask(key));
      section.append(title, grid, more);
      classes.append(section);
      grids.set(key, { grid, more, next: 0, waiting: false });
      if ((perClass[cls] ?? 0) > 0) observe(section);
    });
  };

  const onThumbs = (msg: ThumbsMessage, buffers: ReadonlyArray<ArrayBuffer | ArrayBufferView>) => {
    const entry = grids.get(`${msg.split}:${msg.cls}`);
    if (!entry || msg.page !== entry.next) return; // a page for a grid no longer shown
    const name = (summary().classes ?? [])[msg.cls] ?? String(msg.cls);
    for (const { item, buffer } of pairBuffers(msg.items, buffers)) {
      const fig = thumbFigure(item, buffer ? urls.add(buffer) : null, name);
      fig.setAttribute('role', 'listitem');
      entry.grid.append(fig);
    }
    entry.next += 1;
    entry.waiting = false;
    entry.more.hidden = !msg.has_more;
    entry.more.removeAttribute('aria-busy');
  };

  const renderChecks = () => {
    const c = (model.get('checks') ?? {}) as Partial<DataChecks>;
    checks.replaceChildren();
    if (c.state === 'checking') {
      checks.append(h('p', 'tw-dv-muted', 'Checking files and duplicates…'));
      return;
    }
    if (c.state === 'failed') {
      checks.append(h('p', 'tw-dv-error', `The checks failed: ${c.message ?? ''}`));
      return;
    }
    const problems = c.problems ?? [];
    if (summary().folder) {
      checks.append(
        h(
          'h4',
          'tw-dv-heading',
          c.problem_count ? `Folder problems (${c.problem_count})` : 'Folder problems: none found'
        )
      );
      if (problems.length) {
        const list = h('ul', 'tw-dv-problems');
        for (const p of problems) {
          const li = h('li');
          li.append(h('code', 'tw-dv-path', p.path), h('span', 'tw-dv-problem', ` — ${p.problem}`));
          list.append(li);
        }
        if ((c.problem_count ?? 0) > problems.length)
          list.append(h('li', 'tw-dv-muted', `… and ${(c.problem_count ?? 0) - problems.length} more`));
        checks.append(list);
      }
    }
    if (summary().validation) {
      const n = c.duplicate_count ?? 0;
      checks.append(
        h(
          'h4',
          'tw-dv-heading',
          n
            ? `${n} training images are exact copies of validation images`
            : 'No exact duplicates between training and validation'
        )
      );
      if (n) {
        const list = h('ul', 'tw-dv-duplicates');
        for (const d of c.duplicates ?? []) {
          const text = `train ${d.train_path ?? `#${d.train}`} = validation ${d.validation_path ?? `#${d.validation}`}`;
          list.append(h('li', undefined, text));
        }
        checks.append(list);
      }
    }
  };

  const onMsg = (content: unknown, buffers?: unknown) => {
    const msg = asMessage<DataKernelMessage>(content);
    if (msg?.type === 'thumbs') onThumbs(msg, Array.isArray(buffers) ? buffers : []);
    else if (msg?.type === 'error') {
      errorLine.textContent = msg.message;
      errorLine.hidden = false;
    }
  };
  const onSummary = () => {
    renderCounts();
    renderClasses();
    renderChecks();
  };

  model.on('change:summary', onSummary);
  model.on('change:checks', renderChecks);
  model.on('msg:custom', onMsg);
  onSummary();

  return () => {
    model.off('change:summary', onSummary);
    model.off('change:checks', renderChecks);
    model.off('msg:custom', onMsg);
    root.dispatchEvent(new Event('tw-dispose'));
    urls.revokeAll();
    root.remove();
  };
}

function barCell(count: number, max: number, kind: string): HTMLTableCellElement {
  const td = h('td', 'tw-dv-bar-cell');
  const bar = h('span', `tw-dv-bar tw-dv-bar-${kind}`, undefined, { 'aria-hidden': 'true' });
  bar.style.width = `${Math.round((100 * count) / max)}%`;
  const wrap = h('span', 'tw-dv-bar-track');
  wrap.append(bar);
  td.append(wrap, h('span', 'tw-dv-count', String(count)));
  return td;
}
