/**
 * The export panel view: plain DOM, thin. The kernel exports the experiment
 * (`code` for the chosen `kind`, `cell` for Insert cell below) and loads configs;
 * the view shows the code, and copies, downloads or hands it to the JupyterLab
 * plugin. Code and every message are written with textContent, never as HTML.
 */
import type { ExportKernelMessage, ExportViewMessage } from '../shared/contract';
import { asMessage, h, type WidgetModel } from '../shared/dom';
import { labPlugin, requestInsertCell } from '../shared/protocol';
import {
  copyText,
  downloadText,
  errorMessage,
  KINDS,
  kindInfo,
  lineCount,
  NO_PLUGIN_REASON,
  RUNNING_REASON,
  readConfigFile
} from './logic';

let uid = 0;

export function renderExportPanel({ model, el }: { model: WidgetModel; el: HTMLElement }): () => void {
  const n = ++uid;
  const send = (msg: ExportViewMessage) => model.send(msg);
  const root = h('div', 'tw-widget tw-export-panel');
  el.append(root);

  // What the view itself did last (copy, insert, a file it could not read): shown
  // until the kernel reports something newer.
  let local: { text: string; error: boolean } | null = null;
  let loading = false;
  /** An insert asked of the kernel, waiting for its `insert_cell` answer. */
  let inserting = false;

  // ---- static structure ------------------------------------------------------------------
  const header = h('div', 'tw-header');
  const badge = h('span', 'tw-badge', 'Training');
  header.append(h('span', 'tw-title', 'Export'), h('span', 'tw-ex-muted', 'the experiment as code'), badge);

  const kinds = h('fieldset', 'tw-ex-kinds');
  kinds.append(h('legend', 'tw-ex-legend', 'Export as'));
  const radios = new Map<string, HTMLInputElement>();
  for (const k of KINDS) {
    const id = `tw-ex-${n}-${k.kind}`;
    const radio = h('input', 'tw-ex-radio', undefined, { type: 'radio', name: `tw-ex-${n}-kind`, id, value: k.kind });
    radio.addEventListener('change', () => {
      if (!radio.checked) return;
      local = null;
      model.set('kind', k.kind);
      model.save_changes();
      update();
    });
    const label = h('label', 'tw-ex-kind', undefined, { for: id });
    label.append(radio, h('span', undefined, k.label));
    radios.set(k.kind, radio);
    kinds.append(label);
  }

  const button = (text: string, cls: string, onClick: () => void, attrs: Record<string, string> = {}) => {
    const b = h('button', `tw-button ${cls}`, text, { type: 'button', ...attrs });
    b.addEventListener('click', onClick);
    return b;
  };
  const reasonId = `tw-ex-${n}-reason`;
  const insertBtn = button('Insert cell below', 'tw-ex-insert', () => insert(), {
    title: "Insert the experiment as a code cell directly below this widget's cell"
  });
  const copyBtn = button('Copy', 'tw-ex-copy', () => void copy(), { title: 'Copy the code shown below' });
  const downloadBtn = button('Download', 'tw-ex-download', () => download());
  const loadBtn = button('Load config…', 'tw-ex-load', () => fileInput.click(), {
    title: 'Load a saved transfer_config.json into the controller'
  });
  const fileInput = h('input', 'tw-ex-file', undefined, {
    type: 'file',
    accept: '.json,application/json',
    'aria-label': 'Config file to load'
  });
  fileInput.hidden = true;
  fileInput.addEventListener('change', () => void load());
  const actions = h('div', 'tw-ex-actions', undefined, { role: 'group', 'aria-label': 'Export actions' });
  actions.append(insertBtn, copyBtn, downloadBtn, loadBtn, fileInput);

  // What Insert cell below inserts; in a live notebook, the objects it still needs a name for.
  const note = h('div', 'tw-ex-note');
  const noteText = h('span', 'tw-ex-note-text');
  const saveBtn = button('Save them beside the notebook', 'tw-ex-save', () => saveUnnamed(), {
    title: 'Save the objects this notebook has no name for (transfer_objects/), then insert the cell that loads them'
  });
  note.append(noteText, saveBtn);

  const reasons = h('div', 'tw-ex-reasons', undefined, { id: reasonId });
  const status = h('div', 'tw-ex-status', undefined, { role: 'status' });
  const alert = h('div', 'tw-ex-alert', undefined, { role: 'alert' });

  const caption = h('div', 'tw-ex-caption');
  const pre = h('pre', 'tw-ex-code', undefined, { role: 'region', 'aria-label': 'Exported code', tabindex: '0' });
  root.append(header, kinds, actions, note, reasons, status, alert, caption, pre);

  // ---- state -------------------------------------------------------------------------------
  const kind = (): string => String(model.get('kind') ?? 'script');
  const code = (): string => String(model.get('code') ?? '');
  /** The shown code is the export of the chosen kind (not one still on its way). */
  const current = (): boolean => model.get('code_kind') === kind() && !model.get('export_error');

  const update = () => {
    const info = kindInfo(kind());
    const running = !!model.get('running');
    const plugin = labPlugin();
    const cell = String(model.get('cell') ?? '');
    const ready = current();

    badge.hidden = !running;
    for (const [k, radio] of radios) radio.checked = k === info.kind;

    const live = !!model.get('live');
    const unnamed = (model.get('unnamed') as string[] | undefined) ?? [];
    insertBtn.disabled = !plugin || inserting || (!live && !cell);
    noteText.textContent = String(model.get('insert_note') ?? '');
    note.hidden = !noteText.textContent;
    note.classList.toggle('tw-ex-note-warn', live && unnamed.length > 0);
    saveBtn.hidden = !(live && unnamed.length > 0);
    saveBtn.disabled = inserting;
    copyBtn.disabled = !ready || !code();
    downloadBtn.disabled = !ready || !code();
    downloadBtn.title = `Save the code as ${info.file}`;
    downloadBtn.setAttribute('aria-description', `saves ${info.file}`);
    loadBtn.disabled = running || loading;

    const why: string[] = [];
    if (!plugin) why.push(NO_PLUGIN_REASON);
    if (running) why.push(RUNNING_REASON);
    reasons.textContent = '';
    for (const w of why) reasons.append(h('p', 'tw-ex-reason', w));
    reasons.hidden = why.length === 0;
    for (const b of [insertBtn, loadBtn]) {
      if (b.disabled && why.length) b.setAttribute('aria-describedby', reasonId);
      else b.removeAttribute('aria-describedby');
    }

    const notice = String(model.get('notice') ?? '');
    const statusText = loading ? 'Loading the config…' : local && !local.error ? local.text : notice;
    status.textContent = statusText;
    status.hidden = !statusText;
    const errors = [
      String(model.get('export_error') ?? ''),
      local?.error ? local.text : String(model.get('error') ?? '')
    ].filter(Boolean);
    alert.textContent = errors.join('\n');
    alert.hidden = errors.length === 0;

    caption.textContent = ready
      ? `${info.file} · ${lineCount(code())}`
      : model.get('export_error')
        ? info.file
        : `${info.file} · exporting…`;
    pre.setAttribute('aria-busy', ready ? 'false' : 'true');
    pre.classList.toggle('tw-ex-stale', !ready);
    // Untrusted text (layer names, paths): textContent only.
    if (pre.textContent !== code()) pre.textContent = code();
  };

  // ---- actions -------------------------------------------------------------------------------
  const say = (text: string, error = false) => {
    local = { text, error };
    update();
  };

  /** Ask the kernel for the cell as the notebook's names stand now; `insert_cell` answers. */
  const insert = () => {
    if (!labPlugin()) return say(NO_PLUGIN_REASON, true);
    inserting = true;
    local = null;
    update();
    send({ type: 'insert' });
  };

  const saveUnnamed = () => {
    inserting = true;
    local = null;
    update();
    send({ type: 'save_unnamed' });
  };

  const insertAnswered = (cell: string) => {
    inserting = false;
    if (!cell) {
      const unnamed = (model.get('unnamed') as string[] | undefined) ?? [];
      return say(
        unnamed.length
          ? 'Nothing inserted: the cell needs a name for every object it uses (see above).'
          : 'There is no code to insert: the export failed (see above).',
        true
      );
    }
    if (requestInsertCell(root, cell)) say("Inserted the experiment as a code cell below this widget's cell.");
    else
      say('The JupyterLab extension did not insert the cell (no notebook is open here): use Copy or Download.', true);
  };

  const copy = async () => {
    const text = code();
    try {
      await copyText(text);
      say(`Copied the ${kindInfo(kind()).noun} (${lineCount(text)}) to the clipboard.`);
    } catch (err) {
      // Leave the code selected so Ctrl+C / ⌘C copies it.
      const sel = el.ownerDocument.getSelection?.();
      if (sel) sel.selectAllChildren(pre);
      say(
        `Could not copy (${errorMessage(err)}). The code is selected below: press Ctrl+C (⌘C on a Mac), or use Download.`,
        true
      );
    }
  };

  const download = () => {
    const info = kindInfo(kind());
    try {
      downloadText(code(), info.file, info.mime, el.ownerDocument);
      say(`Downloading ${info.file}.`);
    } catch (err) {
      say(`Could not download ${info.file} (${errorMessage(err)}): use Copy instead.`, true);
    }
  };

  const load = async () => {
    const file = fileInput.files?.[0];
    fileInput.value = ''; // the same file can be picked again after fixing it
    if (!file) return;
    local = null;
    let text: string;
    try {
      text = await readConfigFile(file);
    } catch (err) {
      return say(errorMessage(err), true);
    }
    loading = true;
    update();
    send({ type: 'load_config', name: file.name, text });
  };

  const onMsg = (content: unknown) => {
    const msg = asMessage<ExportKernelMessage>(content);
    if (msg?.type === 'load_done') {
      loading = false;
      local = null;
      update();
    } else if (msg?.type === 'insert_cell') {
      insertAnswered(String(msg.code ?? ''));
    }
  };
  const onKernel = () => {
    local = null;
    update();
  };

  model.on('change:code', update);
  model.on('change:code_kind', update);
  model.on('change:cell', update);
  model.on('change:kind', update);
  model.on('change:running', update);
  model.on('change:export_error', update);
  model.on('change:insert_note', update);
  model.on('change:unnamed', update);
  model.on('change:live', update);
  model.on('change:error', onKernel);
  model.on('change:notice', onKernel);
  model.on('msg:custom', onMsg);
  update();

  return () => {
    for (const name of [
      'code',
      'code_kind',
      'cell',
      'kind',
      'running',
      'export_error',
      'insert_note',
      'unnamed',
      'live'
    ])
      model.off(`change:${name}`, update);
    model.off('change:error', onKernel);
    model.off('change:notice', onKernel);
    model.off('msg:custom', onMsg);
    root.remove();
  };
}
