/** The notebooks the plugin creates: which files get the entry, and paths that stay Python string literals. */
import { folderOf, isModelFile, modelFileNotebook, notebookContent, studioNotebook } from '@tw/plugin/templates';
import { describe, expect, it } from 'vitest';

describe('plugin templates', () => {
  it('offers "Fine-tune in a new notebook" on .keras and .h5 files only', () => {
    expect(['a.keras', 'dir/b.H5', 'c.h5'].map(isModelFile)).toEqual([true, true, true]);
    expect(['a.keras.txt', 'notes.txt', 'model.pb', 'h5'].map(isModelFile)).toEqual([false, false, false, false]);
  });

  it('writes the file name as a string literal, whatever characters it holds', () => {
    const name = 'my "model"\n\\ü.keras';
    const code = modelFileNotebook(name)
      .map(c => c.source)
      .join('\n');
    expect(code).toContain(`path = ${JSON.stringify(name)}`);
    expect(code).toContain('path = "my \\"model\\"\\n\\\\ü.keras"');
    expect(code).toContain('safe_mode=True');
  });

  it('quiets TensorFlow before it loads and opens the studio on the demo data', () => {
    const cells = studioNotebook();
    const quiet = cells.findIndex(c => c.source.includes('TF_CPP_MIN_LOG_LEVEL'));
    const studio = cells.findIndex(c => c.source.includes('TransferStudio.from_application'));
    expect(quiet).toBeGreaterThan(-1);
    expect(studio).toBeGreaterThan(quiet);
    expect(cells[studio]?.source).toMatch(/studio$/);
  });

  it('finds the folder a new notebook goes in', () => {
    expect(folderOf('a/b/model.keras')).toBe('a/b');
    expect(folderOf('model.keras')).toBe('');
  });

  it('writes the whole notebook (nbformat 4.5, Python 3 kernel) before it is opened', () => {
    const cells = modelFileNotebook('m.keras');
    const nb = notebookContent(cells);
    expect([nb.nbformat, nb.nbformat_minor]).toEqual([4, 5]);
    expect(nb.metadata.kernelspec).toMatchObject({ name: 'python3', language: 'python' });
    expect(nb.cells.map(c => [c.cell_type, c.source])).toEqual(cells.map(c => [c.cell_type, c.source]));
    expect(new Set(nb.cells.map(c => c.id)).size).toBe(cells.length);
    expect(nb.cells.every(c => /^[a-zA-Z0-9-_]{1,64}$/.test(c.id))).toBe(true); // nbformat's id rule
    const code = nb.cells.filter(c => c.cell_type === 'code');
    expect(code.every(c => Array.isArray(c.outputs) && c.outputs.length === 0 && c.execution_count === null)).toBe(
      true
    );
    expect(nb.cells.filter(c => c.cell_type === 'markdown').every(c => !('outputs' in c))).toBe(true);
  });
});
