/** Export panel logic without a view: kinds, file names, copy, download, reading a file. */
import { EXPORT_KINDS, type ExportKind } from '../shared/contract';

export type Kind = ExportKind;

export interface KindInfo {
  kind: Kind;
  label: string;
  /** As it reads in a sentence: "Copied the JSON config". */
  noun: string;
  file: string;
  mime: string;
}

/** What the view adds to the Python side's kinds (label and file name come from there). */
const DETAILS: Record<Kind, { noun: string; mime: string }> = {
  script: { noun: 'script', mime: 'text/x-python' },
  cell: { noun: 'notebook cell', mime: 'text/x-python' },
  notebook: { noun: 'notebook', mime: 'application/x-ipynb+json' },
  json: { noun: 'JSON config', mime: 'application/json' }
};

const withDetails = (k: (typeof EXPORT_KINDS)[number]): KindInfo => ({ ...k, ...DETAILS[k.kind] });

/** In the order the panel offers them (the Python side's KINDS). */
export const KINDS: readonly KindInfo[] = EXPORT_KINDS.map(withDetails);
const DEFAULT_KIND = withDetails(EXPORT_KINDS[0]);

/** The kind's details; the first kind (the script) for a kind this view does not know. */
export function kindInfo(kind: string): KindInfo {
  return KINDS.find(k => k.kind === kind) ?? DEFAULT_KIND;
}

/** The file name Download gives a kind's code. */
export function downloadName(kind: string): string {
  return kindInfo(kind).file;
}

/** A config is a few KB; anything this big is the wrong file, refused before reading it. */
export const MAX_CONFIG_BYTES = 5_000_000;

export const NO_PLUGIN_REASON =
  'Insert cell below needs JupyterLab with the transfer-widgets extension, which this page does not have: use Copy or Download.';
export const RUNNING_REASON =
  'Load config… is unavailable while the model trains: stop the run or wait for it to finish.';

/** "97 lines" / "1 line". */
export function lineCount(code: string): string {
  if (!code) return 'empty';
  const n = code.replace(/\n$/, '').split('\n').length;
  return `${n.toLocaleString('en-US')} ${n === 1 ? 'line' : 'lines'}`;
}

/** Copy with the async clipboard API; rejects with a reason when it is missing or refused. */
export async function copyText(
  text: string,
  clipboard: Pick<Clipboard, 'writeText'> | undefined = navigator.clipboard
): Promise<void> {
  if (!clipboard || typeof clipboard.writeText !== 'function') {
    throw new Error('this page has no clipboard access');
  }
  await clipboard.writeText(text);
}

/** Save `text` as a file named `name` through a Blob and a temporary <a download>. */
export function downloadText(text: string, name: string, mime: string, doc: Document = document): void {
  const url = URL.createObjectURL(new Blob([text], { type: `${mime};charset=utf-8` }));
  const a = doc.createElement('a');
  a.href = url;
  a.download = name;
  a.hidden = true;
  doc.body.append(a);
  try {
    a.click();
  } finally {
    a.remove();
    // The download has started by the time the click returns; free the Blob a bit later.
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
}

/** The text of a picked file, or an Error naming the file and what is wrong with it. */
export async function readConfigFile(file: File): Promise<string> {
  if (file.size > MAX_CONFIG_BYTES) {
    const mb = (file.size / 1e6).toFixed(1);
    throw new Error(
      `${file.name} is ${mb} MB, too large for a config: pick the transfer_config.json that Download saves for JSON config.`
    );
  }
  if (typeof file.text === 'function') return file.text();
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result ?? ''));
    reader.onerror = () =>
      reject(new Error(`Could not read ${file.name}: ${reader.error?.message ?? 'unknown error'}`));
    reader.readAsText(file);
  });
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
