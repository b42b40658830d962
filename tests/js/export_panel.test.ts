/** The export panel view in jsdom with a fake anywidget model (and a fake plugin global). */

import {
  downloadName,
  KINDS,
  lineCount,
  MAX_CONFIG_BYTES,
  NO_PLUGIN_REASON,
  RUNNING_REASON
} from '@tw/widgets/export/logic';
import widget from '@tw/widgets/export_panel';
import { at } from '@tw/widgets/shared/array';
import { INSERT_EVENT } from '@tw/widgets/shared/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeModel, must } from './fixtures';

const HOSTILE = '</pre><img src=x onerror=alert(1)>';
const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) must(cleanups.pop())();
  document.body.textContent = '';
  delete window.transferWidgets;
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

/** The fake kernel: answers a kind change with that kind's code, as the Python side does. */
function mount(extra: Record<string, unknown> = {}, { plugin = false, answer = true } = {}) {
  if (plugin) window.transferWidgets = { version: 'test', insertCellBelow: () => true };
  const codes: Record<string, string> = {
    script: '# script\nprint(1)\n',
    cell: '# cell\nmodel = build()\n',
    notebook: '{"cells": []}',
    json: '{"head": {}}'
  };
  const model = new FakeModel(undefined, {
    kind: 'script',
    code: codes.script,
    code_kind: 'script',
    cell: codes.cell,
    export_error: '',
    error: '',
    notice: '',
    running: false,
    ...extra
  });
  if (answer) {
    model.on('change:kind', () => {
      const k = String(model.get('kind'));
      model.set('code', codes[k]);
      model.set('code_kind', k);
    });
  }
  const el = document.createElement('div');
  document.body.append(el);
  const cleanup = widget.render({ model, el });
  cleanups.push(cleanup);
  const button = (name: string) =>
    Array.from(el.querySelectorAll('button')).find(b => b.textContent === name) as HTMLButtonElement;
  const radio = (label: string) => {
    const lab = must(Array.from(el.querySelectorAll('label')).find(l => l.textContent === label));
    return must(el.querySelector<HTMLInputElement>(`#${lab.getAttribute('for')}`));
  };
  const pre = () => must(el.querySelector<HTMLElement>('pre[aria-label="Exported code"]'));
  const status = () => must(el.querySelector<HTMLElement>('[role="status"]'));
  const alert = () => must(el.querySelector<HTMLElement>('[role="alert"]'));
  const reasons = () => must(el.querySelector<HTMLElement>('.tw-ex-reasons'));
  return { model, el, codes, button, radio, pre, status, alert, reasons, cleanup };
}

const flush = () => new Promise(r => setTimeout(r, 0));

describe('export panel: kinds and preview', () => {
  it('offers the four kinds as labelled radios and shows the chosen code', () => {
    const v = mount();
    expect(KINDS.map(k => k.label)).toEqual(['Script', 'Notebook cell', 'Notebook', 'JSON config']);
    for (const k of KINDS) expect(v.radio(k.label).type).toBe('radio');
    expect(v.radio('Script').checked).toBe(true);
    expect(v.pre().textContent).toBe(v.codes.script);
    expect(must(v.el.querySelector('.tw-ex-caption')).textContent).toBe('train.py · 2 lines');
    expect(must(v.el.querySelector('legend')).textContent).toBe('Export as');
  });

  it('switching the kind asks the kernel (kind trait) and shows what comes back', () => {
    const v = mount();
    v.radio('JSON config').checked = true;
    v.radio('JSON config').dispatchEvent(new Event('change'));
    expect(v.model.get('kind')).toBe('json');
    expect(v.model.saves).toBe(1);
    expect(v.pre().textContent).toBe(v.codes.json);
    expect(must(v.el.querySelector('.tw-ex-caption')).textContent).toBe('transfer_config.json · 1 line');
    // A kind set from Python checks its radio.
    v.model.set('kind', 'notebook');
    expect(v.radio('Notebook').checked).toBe(true);
    expect(v.radio('JSON config').checked).toBe(false);
    expect(v.pre().textContent).toBe(v.codes.notebook);
  });

  it('while the code of a new kind is on its way, the old code is marked stale and Copy / Download wait', () => {
    const v = mount({}, { answer: false });
    v.radio('Notebook cell').checked = true;
    v.radio('Notebook cell').dispatchEvent(new Event('change'));
    expect(v.pre().getAttribute('aria-busy')).toBe('true');
    expect(must(v.el.querySelector('.tw-ex-caption')).textContent).toBe('transfer_cell.py · exporting…');
    expect(v.button('Copy').disabled).toBe(true);
    expect(v.button('Download').disabled).toBe(true);
    v.model.set('code', v.codes.cell);
    v.model.set('code_kind', 'cell');
    expect(v.pre().getAttribute('aria-busy')).toBe('false');
    expect(v.button('Copy').disabled).toBe(false);
  });

  it('renders hostile code as text, never as HTML', () => {
    const v = mount({ code: `x = "${HOSTILE}"\n` });
    expect(v.pre().textContent).toBe(`x = "${HOSTILE}"\n`);
    expect(v.el.querySelector('img')).toBeNull();
    expect(v.pre().children.length).toBe(0);
    v.model.set('code', HOSTILE);
    expect(v.el.querySelector('img')).toBeNull();
    expect(v.pre().textContent).toBe(HOSTILE);
    // Errors from the kernel are text too.
    v.model.set('error', `bad.json: head.layers[0].type ${HOSTILE}`);
    expect(v.el.querySelector('img')).toBeNull();
    expect(v.alert().textContent).toBe(`bad.json: head.layers[0].type ${HOSTILE}`);
  });

  it('shows an export failure in place of the code', () => {
    const v = mount({ code: '', cell: '', export_error: 'Cannot export the experiment (ValueError): broken' });
    expect(v.alert().textContent).toBe('Cannot export the experiment (ValueError): broken');
    expect(v.button('Copy').disabled).toBe(true);
    expect(v.button('Download').disabled).toBe(true);
  });
});

describe('export panel: insert cell below', () => {
  it('with the JupyterLab plugin, dispatches a bubbling, composed insert event with the cell export', () => {
    const v = mount({}, { plugin: true });
    const got: CustomEvent[] = [];
    const listener = (e: Event) => {
      got.push(e as CustomEvent);
      e.preventDefault(); // what the plugin does once it inserted the cell
    };
    document.addEventListener(INSERT_EVENT, listener);
    try {
      expect(v.button('Insert cell below').disabled).toBe(false);
      expect(v.reasons().hidden).toBe(true);
      v.button('Insert cell below').click();
      expect(v.model.sent[v.model.sent.length - 1]).toEqual({ type: 'insert' }); // the kernel writes the cell as names stand now
      expect(got).toHaveLength(0);
      expect(v.button('Insert cell below').disabled).toBe(true); // until it answers
      v.model.receive({ type: 'insert_cell', code: v.codes.cell });
    } finally {
      document.removeEventListener(INSERT_EVENT, listener);
    }
    expect(got).toHaveLength(1);
    expect(INSERT_EVENT).toBe('transfer-widgets:insert-cell');
    const event = must(got[0]);
    expect(event.bubbles).toBe(true);
    expect(event.composed).toBe(true);
    expect(event.detail).toEqual({ code: v.codes.cell });
    expect(v.el.contains(event.target as Node)).toBe(true); // from the widget's own element
    expect(v.status().textContent).toBe("Inserted the experiment as a code cell below this widget's cell.");
  });

  it('inserts the cell the kernel answers with whatever kind is shown, and says what it inserts', () => {
    const v = mount({}, { plugin: true });
    v.model.set('insert_note', 'Insert cell below adds the Notebook cell export.');
    v.model.set('kind', 'json');
    expect(must(v.el.querySelector('.tw-ex-note')).textContent).toContain('adds the Notebook cell export');
    let detail: unknown = null;
    const listener = (e: Event) => (detail = (e as CustomEvent).detail);
    document.addEventListener(INSERT_EVENT, listener);
    v.button('Insert cell below').click();
    v.model.receive({ type: 'insert_cell', code: v.codes.cell });
    document.removeEventListener(INSERT_EVENT, listener);
    expect(detail).toEqual({ code: v.codes.cell });
  });

  it('says so when the plugin did not insert the cell', () => {
    const v = mount({}, { plugin: true });
    v.button('Insert cell below').click(); // no listener calls preventDefault
    v.model.receive({ type: 'insert_cell', code: v.codes.cell });
    expect(v.alert().textContent).toMatch(/did not insert the cell.*use Copy or Download/);
  });

  it('in a live notebook, offers to save the objects with no name, and inserts nothing until then', () => {
    const v = mount({}, { plugin: true });
    const save = must(Array.from(v.el.querySelectorAll('button')).find(b => b.textContent?.startsWith('Save them')));
    expect(save.hidden).toBe(true);
    v.model.set('live', true);
    v.model.set('unnamed', ['train_data[0]']);
    v.model.set('insert_note', 'This notebook has no name for train_data[0]: ...');
    expect(save.hidden).toBe(false);
    const listener = vi.fn();
    document.addEventListener(INSERT_EVENT, listener);
    v.button('Insert cell below').click();
    v.model.receive({ type: 'insert_cell', code: '' });
    expect(listener).not.toHaveBeenCalled();
    expect(v.alert().textContent).toMatch(/needs a name for every object/);
    save.click();
    expect(v.model.sent[v.model.sent.length - 1]).toEqual({ type: 'save_unnamed' });
    v.model.set('unnamed', []);
    v.model.receive({ type: 'insert_cell', code: 'rebuilt = 1\n' });
    document.removeEventListener(INSERT_EVENT, listener);
    expect(listener).toHaveBeenCalledTimes(1);
    expect(save.hidden).toBe(true);
  });

  it('without the plugin, the button is disabled with a visible reason, and no event is sent', () => {
    const v = mount();
    const listener = vi.fn();
    document.addEventListener(INSERT_EVENT, listener);
    const insert = v.button('Insert cell below');
    expect(insert.disabled).toBe(true);
    insert.click();
    document.removeEventListener(INSERT_EVENT, listener);
    expect(listener).not.toHaveBeenCalled();
    expect(v.reasons().hidden).toBe(false);
    expect(v.reasons().textContent).toBe(NO_PLUGIN_REASON);
    expect(insert.getAttribute('aria-describedby')).toBe(v.reasons().id);
    expect(v.button('Copy').disabled).toBe(false);
    expect(v.button('Download').disabled).toBe(false);
  });
});

describe('export panel: copy and download', () => {
  it('copies the shown code with the clipboard API', async () => {
    const writeText = vi.fn().mockResolvedValue(undefined);
    vi.stubGlobal('navigator', { ...navigator, clipboard: { writeText } });
    const v = mount();
    v.button('Copy').click();
    await flush();
    expect(writeText).toHaveBeenCalledWith(v.codes.script);
    expect(v.status().textContent).toBe('Copied the script (2 lines) to the clipboard.');
  });

  it('when copying fails, says why, selects the code and points to Ctrl+C / Download', async () => {
    vi.stubGlobal('navigator', {
      ...navigator,
      clipboard: { writeText: vi.fn().mockRejectedValue(new Error('Write permission denied.')) }
    });
    const v = mount();
    v.button('Copy').click();
    await flush();
    expect(v.alert().textContent).toBe(
      'Could not copy (Write permission denied.). The code is selected below: press Ctrl+C (⌘C on a Mac), or use Download.'
    );
    expect(must(document.getSelection()).toString()).toBe(v.codes.script);
  });

  it('without a clipboard API, copying says so', async () => {
    vi.stubGlobal('navigator', { ...navigator, clipboard: undefined });
    const v = mount();
    v.button('Copy').click();
    await flush();
    expect(v.alert().textContent).toMatch(/^Could not copy \(this page has no clipboard access\)/);
  });

  it('downloads each kind under its file name through a Blob and a temporary <a download>', async () => {
    const blobs: Blob[] = [];
    const clicked: { name: string; href: string; inDoc: boolean }[] = [];
    // jsdom has no object URLs; the panel only needs these two.
    Object.assign(URL, {
      createObjectURL: vi.fn((b: Blob) => {
        blobs.push(b);
        return `blob:test/${blobs.length}`;
      }),
      revokeObjectURL: vi.fn()
    });
    cleanups.push(() => {
      Reflect.deleteProperty(URL, 'createObjectURL');
      Reflect.deleteProperty(URL, 'revokeObjectURL');
    });
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push({ name: this.download, href: this.href, inDoc: document.body.contains(this) });
    });
    const v = mount();
    const expected = {
      script: 'train.py',
      cell: 'transfer_cell.py',
      notebook: 'transfer.ipynb',
      json: 'transfer_config.json'
    };
    for (const [kind, file] of Object.entries(expected)) {
      expect(downloadName(kind)).toBe(file);
      v.model.set('kind', kind);
      v.button('Download').click();
      expect(v.status().textContent).toBe(`Downloading ${file}.`);
    }
    expect(clicked.map(c => c.name)).toEqual(Object.values(expected));
    expect(clicked.every(c => c.inDoc && c.href.startsWith('blob:test/'))).toBe(true);
    expect(document.querySelectorAll('a[download]').length).toBe(0); // removed again
    const text = await new Promise<string>(resolve => {
      const reader = new FileReader(); // jsdom's Blob has no text()
      reader.onload = () => resolve(String(reader.result));
      reader.readAsText(at(blobs, 3));
    });
    expect(text).toBe(v.codes.json);
    expect(at(blobs, 2).type).toBe('application/x-ipynb+json;charset=utf-8');
    expect(v.button('Download').title).toBe('Save the code as transfer_config.json');
  });
});

describe('export panel: load config', () => {
  const pick = (v: ReturnType<typeof mount>, file: File) => {
    const input = must(v.el.querySelector<HTMLInputElement>('input[type="file"]'));
    Object.defineProperty(input, 'files', { value: [file], configurable: true });
    input.dispatchEvent(new Event('change'));
  };

  it('the button opens the file picker; the file text goes to the kernel, then its answer shows', async () => {
    const v = mount();
    const input = must(v.el.querySelector<HTMLInputElement>('input[type="file"]'));
    expect(input.getAttribute('aria-label')).toBe('Config file to load');
    expect(input.accept).toBe('.json,application/json');
    const opened = vi.spyOn(input, 'click').mockImplementation(() => undefined);
    v.button('Load config…').click();
    expect(opened).toHaveBeenCalled();
    pick(v, new File(['{"head": {"num_classes": 4}}'], 'saved.json', { type: 'application/json' }));
    await vi.waitFor(() => expect(v.model.sent).toHaveLength(1));
    expect(v.model.sent[0]).toEqual({ type: 'load_config', name: 'saved.json', text: '{"head": {"num_classes": 4}}' });
    expect(v.status().textContent).toBe('Loading the config…');
    expect(v.button('Load config…').disabled).toBe(true);
    v.model.set('notice', 'Loaded saved.json into the controller.');
    v.model.receive({ type: 'load_done', ok: true });
    expect(v.status().textContent).toBe('Loaded saved.json into the controller.');
    expect(v.button('Load config…').disabled).toBe(false);
  });

  it('a refused load shows the kernel error inline', async () => {
    const v = mount();
    pick(v, new File(['{"head": {"task": 3}}'], 'bad.json'));
    await vi.waitFor(() => expect(v.model.sent).toHaveLength(1));
    v.model.set('error', 'bad.json: the config has problems: head.task must be one of ..., got 3');
    v.model.receive({ type: 'load_done', ok: false });
    expect(v.alert().hidden).toBe(false);
    expect(v.alert().textContent).toBe('bad.json: the config has problems: head.task must be one of ..., got 3');
    expect(v.status().hidden).toBe(true);
  });

  it('a huge file is refused in the browser, naming it', async () => {
    const v = mount();
    const big = new File(['x'], 'weights.json');
    Object.defineProperty(big, 'size', { value: MAX_CONFIG_BYTES + 1 });
    pick(v, big);
    await vi.waitFor(() => expect(v.alert().textContent).toMatch(/^weights\.json is 5\.0 MB, too large for a config/));
    expect(v.model.sent).toEqual([]);
  });

  it('while the model trains, Load config… is disabled with a visible reason and a Training badge', () => {
    const v = mount({ running: true }, { plugin: true });
    expect(v.button('Load config…').disabled).toBe(true);
    expect(v.reasons().textContent).toBe(RUNNING_REASON);
    expect(v.button('Load config…').getAttribute('aria-describedby')).toBe(v.reasons().id);
    expect(must(v.el.querySelector<HTMLElement>('.tw-badge')).hidden).toBe(false);
    expect(v.button('Copy').disabled).toBe(false);
    v.model.set('running', false);
    expect(v.button('Load config…').disabled).toBe(false);
    expect(v.reasons().hidden).toBe(true);
    expect(must(v.el.querySelector<HTMLElement>('.tw-badge')).hidden).toBe(true);
  });
});

describe('export panel: lifecycle and helpers', () => {
  it('removes its listeners and element on cleanup', () => {
    const v = mount();
    expect(v.model.listenerCount()).toBeGreaterThan(0);
    const before = v.model.listenerCount();
    v.cleanup();
    cleanups.pop();
    // Only the fake kernel's own change:kind listener is left.
    expect(v.model.listenerCount()).toBe(1);
    expect(before).toBeGreaterThan(1);
    expect(v.el.children.length).toBe(0);
  });

  it('counts lines', () => {
    expect(lineCount('')).toBe('empty');
    expect(lineCount('a')).toBe('1 line');
    expect(lineCount('a\nb\n')).toBe('2 lines');
  });
});
