/**
 * The mistakes panel: confusion matrix (a cell click filters the gallery to exactly
 * those images), most-confused pairs, the top-loss gallery with a heat map toggled per
 * image, and likely label errors with a CSV download. The kernel computes everything;
 * images arrive as PNG buffers. Names and paths are written with textContent.
 */

import { baseName, ImageUrls } from '../data/thumbs';
import { downloadText } from '../export/logic';
import type {
  GalleryMessage,
  HeatmapMessage,
  IssuesMessage,
  MistakesKernelMessage,
  MistakesState,
  MistakesViewMessage
} from '../shared/contract';
import { asMessage, h, type WidgetModel } from '../shared/dom';

type Buffers = ReadonlyArray<ArrayBuffer | ArrayBufferView>;

export function renderMistakes({ model, el }: { model: WidgetModel; el: HTMLElement }): () => void {
  const send = (msg: MistakesViewMessage) => model.send(msg);
  const root = h('div', 'tw-widget tw-mistakes');
  el.append(root);
  const urls = new ImageUrls();
  let filter: { true: number | null; predicted: number | null } = { true: null, predicted: null };
  let page = 0;
  let issuesCsv = '';
  const heat = new Map<
    number,
    { img: HTMLImageElement; plain: string; heat: string | null; button: HTMLButtonElement; failed: boolean }
  >();

  // ---- structure -------------------------------------------------------------------------
  const header = h('div', 'tw-header');
  const subtitle = h('span', 'tw-mi-muted');
  const badge = h('span', 'tw-badge', 'Training');
  const refreshBtn = h('button', 'tw-button tw-mi-refresh', 'Refresh', {
    type: 'button',
    title: 'Predict again with the weights of the last completed epoch'
  });
  refreshBtn.addEventListener('click', () => send({ type: 'refresh' }));
  header.append(h('span', 'tw-title', 'Mistakes'), subtitle, badge, refreshBtn);
  const message = h('p', 'tw-mi-message', undefined, { role: 'status' });
  const errorLine = h('p', 'tw-mi-error', undefined, { role: 'alert' });
  errorLine.hidden = true;

  const top = h('div', 'tw-mi-top');
  const matrix = h('table', 'tw-mi-matrix');
  const confused = h('table', 'tw-mi-confused');
  top.append(matrix, confused);

  const galleryHead = h('div', 'tw-mi-gallery-head');
  const trueSel = h('select', 'tw-mi-select', undefined, { 'aria-label': 'True class' });
  const predSel = h('select', 'tw-mi-select', undefined, { 'aria-label': 'Predicted class' });
  const clearBtn = h('button', 'tw-button tw-mi-clear', 'All images', { type: 'button' });
  const galleryTitle = h('h4', 'tw-mi-heading', 'Top losses');
  const trueLabel = h('label', 'tw-mi-filter', 'True ');
  trueLabel.append(trueSel);
  const predLabel = h('label', 'tw-mi-filter', 'Predicted ');
  predLabel.append(predSel);
  galleryHead.append(galleryTitle, trueLabel, predLabel, clearBtn);
  const gallery = h('div', 'tw-mi-gallery', undefined, { role: 'list', 'aria-label': 'Top losses' });
  const moreBtn = h('button', 'tw-button tw-mi-more', 'More', { type: 'button' });
  moreBtn.hidden = true;

  const issuesHead = h('div', 'tw-mi-issues-head');
  const issuesBtn = h('button', 'tw-button tw-mi-find', 'Find likely label errors', {
    type: 'button',
    title: 'Cross-validate the head on the training data and list the labels it doubts most'
  });
  const csvBtn = h('button', 'tw-button tw-mi-csv', 'Download CSV', { type: 'button' });
  csvBtn.hidden = true;
  const issuesText = h('span', 'tw-mi-muted');
  issuesHead.append(h('h4', 'tw-mi-heading', 'Likely label errors'), issuesBtn, csvBtn, issuesText);
  // Focusable so a keyboard can scroll it: its cards hold nothing else to focus.
  const issues = h('div', 'tw-mi-issues', undefined, {
    role: 'list',
    'aria-label': 'Likely label errors',
    tabindex: '0'
  });

  const galleryBox = h('div', 'tw-mi-results');
  galleryBox.append(top, galleryHead, gallery, moreBtn, issuesHead, issues);
  root.append(header, message, errorLine, galleryBox);

  const matrixFocus = { t: 0, p: 0 }; // the matrix's one Tab stop; arrow keys move it
  const state = () => (model.get('state') ?? {}) as Partial<MistakesState>;
  const names = () => state().classes ?? [];
  const nameOf = (i: number) => names()[i] ?? String(i);

  // ---- gallery ----------------------------------------------------------------------------
  const askGallery = (reset: boolean) => {
    if (reset) {
      page = 0;
      gallery.replaceChildren();
      heat.clear();
    }
    moreBtn.setAttribute('aria-busy', 'true'); // not disabled: that would drop its keyboard focus
    send({ type: 'gallery', true: filter.true, predicted: filter.predicted, page });
  };
  const setFilter = (t: number | null, p: number | null) => {
    filter = { true: t, predicted: p };
    trueSel.value = t === null ? '' : String(t);
    predSel.value = p === null ? '' : String(p);
    askGallery(true);
  };
  trueSel.addEventListener('change', () => setFilter(optional(trueSel.value), filter.predicted));
  predSel.addEventListener('change', () => setFilter(filter.true, optional(predSel.value)));
  clearBtn.addEventListener('click', () => setFilter(null, null));
  moreBtn.addEventListener('click', () => {
    if (moreBtn.getAttribute('aria-busy') !== 'true') askGallery(false);
  });

  const onGallery = (msg: GalleryMessage, buffers: Buffers) => {
    if (msg.true !== filter.true || msg.predicted !== filter.predicted || msg.page !== page) return;
    galleryTitle.textContent = titleFor(msg, nameOf);
    msg.items.forEach((item, i) => {
      const buffer = buffers[i];
      const url = buffer ? urls.add(buffer) : '';
      const card = h('figure', 'tw-mi-card', undefined, { role: 'listitem' });
      if (item.label !== item.predicted) card.classList.add('tw-mi-wrong');
      const where = item.path ?? `#${item.index}`;
      const img = h('img', 'tw-mi-img', undefined, {
        src: url,
        alt: `${nameOf(item.label)} predicted as ${nameOf(item.predicted)}: ${where}`,
        title: where
      });
      const toggle = h('button', 'tw-button tw-mi-heat', 'Heat map', {
        type: 'button',
        'aria-pressed': 'false',
        'aria-label': `Heat map for image ${where}`
      });
      heat.set(item.index, { img, plain: url, heat: null, button: toggle, failed: false });
      toggle.addEventListener('click', () => toggleHeat(item.index));
      const caption = h('figcaption', 'tw-mi-caption');
      caption.append(
        h('span', 'tw-mi-line', `true: ${nameOf(item.label)}`),
        h('span', 'tw-mi-line', `pred: ${nameOf(item.predicted)}`),
        h('span', 'tw-mi-line tw-mi-muted', `p ${item.probability.toFixed(2)} · loss ${item.loss.toFixed(2)}`)
      );
      if (item.path) caption.append(h('span', 'tw-mi-line tw-mi-path', baseName(item.path), { title: item.path }));
      card.append(img, toggle, caption);
      gallery.append(card);
    });
    if (msg.items.length === 0 && msg.page === 0) gallery.append(h('p', 'tw-mi-muted', 'No images here.'));
    page += 1;
    moreBtn.hidden = !msg.has_more;
    moreBtn.removeAttribute('aria-busy');
  };

  const toggleHeat = (index: number) => {
    const entry = heat.get(index);
    if (!entry) return;
    // Busy or failed buttons stay enabled (aria-disabled): disabling one drops its keyboard focus.
    if (entry.failed || entry.button.getAttribute('aria-busy') === 'true') return;
    const on = entry.button.getAttribute('aria-pressed') !== 'true';
    if (on && entry.heat === null) {
      entry.button.setAttribute('aria-busy', 'true');
      send({ type: 'heatmap', index });
      return;
    }
    showHeat(index, on);
  };
  const showHeat = (index: number, on: boolean) => {
    const entry = heat.get(index);
    if (!entry) return;
    entry.img.src = on && entry.heat ? entry.heat : entry.plain;
    entry.button.setAttribute('aria-pressed', String(on));
  };
  const onHeatmap = (msg: HeatmapMessage, buffers: Buffers) => {
    const entry = heat.get(msg.index);
    if (!entry) return;
    entry.button.removeAttribute('aria-busy');
    if (msg.error !== null || !buffers[0]) {
      entry.failed = true;
      entry.button.setAttribute('aria-disabled', 'true');
      entry.button.title = msg.error ?? 'No heat map';
      entry.img.parentElement?.append(h('span', 'tw-mi-line tw-mi-error', msg.error ?? 'No heat map'));
      return;
    }
    entry.heat = urls.add(buffers[0]);
    showHeat(msg.index, true);
  };

  // ---- label issues ---------------------------------------------------------------------
  issuesBtn.addEventListener('click', () => {
    if (issuesBtn.getAttribute('aria-busy') === 'true') return; // not disabled: it keeps the focus
    issuesBtn.setAttribute('aria-busy', 'true');
    issuesText.textContent = 'Cross-validating the head on the training data…';
    send({ type: 'label_issues' });
  });
  csvBtn.addEventListener('click', () => downloadText(issuesCsv, 'label_issues.csv', 'text/csv', el.ownerDocument));
  const onIssues = (msg: IssuesMessage, buffers: Buffers) => {
    issuesBtn.removeAttribute('aria-busy');
    issuesCsv = msg.csv;
    csvBtn.hidden = msg.count === 0;
    issuesText.textContent = `${msg.count} of ${msg.examples} training labels doubted${msg.count > msg.items.length ? ` (first ${msg.items.length} shown; the CSV has all)` : ''}`;
    issues.replaceChildren();
    msg.items.forEach((item, i) => {
      const card = h('figure', 'tw-mi-card', undefined, { role: 'listitem' });
      const where = item.path ?? `#${item.index}`;
      const buffer = buffers[i];
      card.append(
        h('img', 'tw-mi-img', undefined, {
          src: buffer ? urls.add(buffer) : '',
          alt: `labelled ${nameOf(item.label)}: ${where}`
        }),
        h('span', 'tw-mi-line', `label: ${nameOf(item.label)}`),
        h('span', 'tw-mi-line', `looks like: ${nameOf(item.suggested)}`),
        h('span', 'tw-mi-line tw-mi-path', item.path ? baseName(item.path) : where, { title: where })
      );
      issues.append(card);
    });
  };

  // ---- matrix and pairs -------------------------------------------------------------------
  const renderState = () => {
    const s = state();
    const running = Boolean(s.running);
    badge.hidden = !running;
    issuesBtn.disabled = running;
    issuesBtn.title = running
      ? 'Available when the run ends (cross-validation would slow training down)'
      : 'Cross-validate the head on the training data and list the labels it doubts most';
    message.textContent = s.message ?? '';
    message.hidden = !s.message;
    const matrixRows = s.confusion ?? [];
    galleryBox.hidden = matrixRows.length === 0;
    subtitle.textContent =
      matrixRows.length > 0 ? `${s.errors ?? 0} of ${s.total ?? 0} images wrong — weights: ${s.weights ?? ''}` : '';
    fillOptions(trueSel, names(), 'All');
    fillOptions(predSel, names(), 'All');
    trueSel.value = filter.true === null ? '' : String(filter.true);
    predSel.value = filter.predicted === null ? '' : String(filter.predicted);
    const focused = matrix.contains(el.ownerDocument.activeElement);
    renderMatrix(matrix, matrixRows, names(), setFilter, matrixFocus);
    if (focused) matrix.querySelector<HTMLButtonElement>('button[tabindex="0"]')?.focus(); // kept across updates
    confused.replaceChildren(h('caption', 'tw-mi-caption-title', 'Most confused'));
    const head = h('tr');
    for (const t of ['True', 'Predicted', 'Count']) head.append(h('th', undefined, t, { scope: 'col' }));
    confused.append(head);
    for (const pair of (s.most_confused ?? []).slice(0, 10)) {
      const row = h('tr');
      const show = h('button', 'tw-mi-link', nameOf(pair.true), {
        type: 'button',
        'aria-label': `Show ${nameOf(pair.true)} predicted as ${nameOf(pair.predicted)}`
      });
      show.addEventListener('click', () => setFilter(pair.true, pair.predicted));
      const first = h('td');
      first.append(show);
      row.append(first, h('td', undefined, nameOf(pair.predicted)), h('td', 'tw-mi-num', String(pair.count)));
      confused.append(row);
    }
    if ((s.most_confused ?? []).length === 0) confused.append(h('tr', 'tw-mi-muted', 'No confusions.'));
    if (matrixRows.length > 0) askGallery(true);
  };

  const onMsg = (content: unknown, buffers?: unknown) => {
    const msg = asMessage<MistakesKernelMessage>(content);
    const bufs: Buffers = Array.isArray(buffers) ? buffers : [];
    if (msg?.type === 'gallery') onGallery(msg, bufs);
    else if (msg?.type === 'heatmap') onHeatmap(msg, bufs);
    else if (msg?.type === 'label_issues') onIssues(msg, bufs);
    else if (msg?.type === 'error') {
      errorLine.textContent = msg.message;
      errorLine.hidden = false;
      issuesBtn.removeAttribute('aria-busy');
      moreBtn.removeAttribute('aria-busy');
    }
  };

  // A cell chosen from the kernel (show_cell, or a click in a followed training monitor).
  const onCell = () => {
    const cell = model.get('cell');
    if (!Array.isArray(cell) || cell.length !== 2) return;
    setFilter(Number(cell[0]), Number(cell[1]));
    galleryHead.scrollIntoView?.({ block: 'nearest' });
  };

  model.on('change:state', renderState);
  model.on('change:cell', onCell);
  model.on('msg:custom', onMsg);
  renderState();
  return () => {
    model.off('change:state', renderState);
    model.off('change:cell', onCell);
    model.off('msg:custom', onMsg);
    urls.revokeAll();
    root.remove();
  };
}

function optional(value: string): number | null {
  return value === '' ? null : Number(value);
}

function fillOptions(select: HTMLSelectElement, names: string[], all: string): void {
  if (select.options.length === names.length + 1) return;
  select.replaceChildren(h('option', undefined, all, { value: '' }));
  names.forEach((name, i) => {
    select.append(h('option', undefined, name, { value: String(i) }));
  });
}

/** The gallery's title for a filter. */
export function titleFor(
  msg: { true: number | null; predicted: number | null; total: number },
  nameOf: (i: number) => string
): string {
  const parts: string[] = [];
  if (msg.true !== null) parts.push(`true ${nameOf(msg.true)}`);
  if (msg.predicted !== null) parts.push(`predicted ${nameOf(msg.predicted)}`);
  return `Top losses${parts.length ? ` — ${parts.join(', ')}` : ''} (${msg.total} images)`;
}

/**
 * The confusion matrix as a table of cell buttons. One cell is in the Tab order (``focus``,
 * kept across re-renders); arrow keys, Home and End move between cells; Enter or Space
 * shows the cell's images.
 */
function renderMatrix(
  table: HTMLTableElement,
  rows: number[][],
  names: string[],
  onCell: (t: number, p: number) => void,
  focus: { t: number; p: number }
): void {
  table.replaceChildren(h('caption', 'tw-mi-caption-title', 'Confusion matrix (rows: true, columns: predicted)'));
  if (rows.length === 0) return;
  const k = rows.length;
  focus.t = Math.min(focus.t, k - 1);
  focus.p = Math.min(focus.p, k - 1);
  const buttons: HTMLButtonElement[][] = [];
  const head = h('tr');
  head.append(h('th', 'tw-mi-corner', ''));
  for (const name of names) head.append(h('th', 'tw-mi-col', name, { scope: 'col', title: `predicted ${name}` }));
  table.append(head);
  rows.forEach((row, t) => {
    const tr = h('tr');
    tr.append(h('th', 'tw-mi-rowhead', names[t] ?? String(t), { scope: 'row' }));
    const total = Math.max(
      1,
      row.reduce((a, b) => a + b, 0)
    );
    buttons.push([]);
    row.forEach((count, p) => {
      const td = h('td', t === p ? 'tw-mi-cell tw-mi-diag' : 'tw-mi-cell');
      const b = h('button', 'tw-mi-cell-btn', String(count), {
        type: 'button',
        tabindex: t === focus.t && p === focus.p ? '0' : '-1',
        'aria-label': `true ${names[t] ?? t}, predicted ${names[p] ?? p}: ${count} images`
      });
      b.style.setProperty('--tw-mi-share', String(count / total));
      b.addEventListener('click', () => onCell(t, p));
      b.addEventListener('keydown', event => {
        const next = matrixMove(event.key, t, p, k);
        if (!next) return;
        event.preventDefault();
        const target = buttons[next[0]]?.[next[1]];
        if (!target) return;
        b.tabIndex = -1;
        target.tabIndex = 0;
        [focus.t, focus.p] = next;
        target.focus();
      });
      buttons[t]?.push(b);
      td.append(b);
      tr.append(td);
    });
    table.append(tr);
  });
}

/** Where a key moves the focus in a k x k matrix from cell (t, p); null for other keys. */
export function matrixMove(key: string, t: number, p: number, k: number): [number, number] | null {
  switch (key) {
    case 'ArrowUp':
      return [Math.max(0, t - 1), p];
    case 'ArrowDown':
      return [Math.min(k - 1, t + 1), p];
    case 'ArrowLeft':
      return [t, Math.max(0, p - 1)];
    case 'ArrowRight':
      return [t, Math.min(k - 1, p + 1)];
    case 'Home':
      return [t, 0];
    case 'End':
      return [t, k - 1];
    default:
      return null;
  }
}
