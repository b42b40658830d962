/**
 * The notebooks the plugin creates: the studio on the offline demo data, and the studio
 * on a saved model the user right-clicked. Paths go into the Python code as JSON string
 * literals (valid Python literals too), never as raw text.
 */

export interface CellTemplate {
  cell_type: 'markdown' | 'code';
  source: string;
}

/** Keep TensorFlow's start-up messages out of the first output. */
const QUIET = [
  'import os',
  '',
  'os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow\'s own log: errors only',
  "# Its C++ start-up notes (oneDNN, CUDA drivers) go straight to the process's stderr before",
  '# any setting applies: load TensorFlow with that stream pointed at /dev/null.',
  'saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)',
  'os.dup2(null, 2)',
  'try:',
  '    import tensorflow as tf',
  '',
  '    tf.config.list_logical_devices()  # the device set-up prints its notes now, not later',
  'finally:',
  '    os.dup2(saved, 2)',
  '    os.close(null)',
  '    os.close(saved)'
].join('\n');

/** A new fine-tuning notebook: the studio on MobileNetV2 and the offline digits. */
export function studioNotebook(): CellTemplate[] {
  return [
    {
      cell_type: 'markdown',
      source: [
        '# Fine-tune a pretrained model',
        '',
        'Run the cells: the studio shows the layers (choose what trains), the head, training and export.',
        'The data here is the offline digits demo; put your own `(x, y)` arrays in its place.'
      ].join('\n')
    },
    { cell_type: 'code', source: QUIET },
    {
      cell_type: 'code',
      source: [
        'from transfer_widgets import TransferStudio, datasets',
        '',
        'x, y = datasets.load_digits(image_size=(32, 32))',
        'x_train, y_train, x_val, y_val = x[:1400], y[:1400], x[1400:], y[1400:]',
        '# weights=None works offline; with internet, weights="imagenet" starts from pretrained weights.',
        'studio = TransferStudio.from_application(',
        '    "MobileNetV2",',
        '    weights=None,',
        '    input_shape=(32, 32, 3),',
        '    train_data=(x_train, y_train),',
        '    validation_data=(x_val, y_val),',
        '    num_classes=10,',
        ')',
        'studio'
      ].join('\n')
    }
  ];
}

/** A notebook beside `fileName` (a .keras / .h5 model) that loads it safely and opens the studio. */
export function modelFileNotebook(fileName: string): CellTemplate[] {
  const path = JSON.stringify(fileName);
  return [
    {
      cell_type: 'markdown',
      source: [
        `# Fine-tune ${fileName.replace(/[\\`*_[\]<>#]/g, '\\$&')}`,
        '',
        'The model is loaded with `safe_mode=True`: a file that holds code (a `Lambda` layer, a custom',
        'object) is not run, and the cell says how to load it if you trust where it came from.'
      ].join('\n')
    },
    { cell_type: 'code', source: QUIET },
    {
      cell_type: 'code',
      source: [
        'import keras',
        '',
        `path = ${path}`,
        'try:',
        '    base = keras.saving.load_model(path, safe_mode=True, compile=False)',
        'except ValueError as err:',
        '    if "safe_mode" not in str(err):',
        '        raise',
        '    base = None',
        '    print(',
        '        f"{path} holds code (a Lambda layer or a custom object) that Keras runs only when loaded "',
        '        "with safe_mode=False. Do that only if you trust where the file came from:\\n"',
        '        f"    base = keras.saving.load_model({path!r}, safe_mode=False, compile=False)"',
        '    )',
        'base'
      ].join('\n')
    },
    {
      cell_type: 'code',
      source: [
        'from transfer_widgets import TransferStudio, datasets',
        '',
        "# The offline digits at the model's input size; put your own (x, y) arrays in their place.",
        'if base is not None:',
        '    height, width, channels = (d or 32 for d in base.input_shape[1:4])',
        '    x, y = datasets.load_digits(image_size=(height, width), channels=channels)',
        '    x_train, y_train, x_val, y_val = x[:1400], y[:1400], x[1400:], y[1400:]',
        '    studio = TransferStudio(',
        '        base, train_data=(x_train, y_train), validation_data=(x_val, y_val), num_classes=10',
        '    )',
        '    display(studio)'
      ].join('\n')
    }
  ];
}

/** Whether the plugin offers "Fine-tune in a new notebook" for this file. */
export function isModelFile(path: string): boolean {
  return /\.(keras|h5)$/i.test(path);
}

/** The folder part of a path in Lab's contents API ('' for the root). */
export function folderOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** A notebook file's content (nbformat 4.5), as the contents API saves it. */
export interface NotebookContent {
  nbformat: 4;
  nbformat_minor: 5;
  metadata: Record<string, unknown>;
  cells: {
    id: string;
    cell_type: CellTemplate['cell_type'];
    source: string;
    metadata: Record<string, unknown>;
    outputs?: never[];
    execution_count?: null;
  }[];
}

/**
 * `cells` as a whole notebook for the Python 3 kernel. The plugin writes it to a file
 * before opening it, so the notebook is complete wherever the front end opens it: in
 * Lab's main area, or in a new browser tab (Notebook 7's file browser).
 */
export function notebookContent(cells: CellTemplate[]): NotebookContent {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'python3', display_name: 'Python 3 (ipykernel)', language: 'python' },
      language_info: { name: 'python' }
    },
    cells: cells.map((c, i) => ({
      id: `transfer-widgets-${i}`,
      cell_type: c.cell_type,
      source: c.source,
      metadata: {},
      ...(c.cell_type === 'code' ? { outputs: [], execution_count: null } : {})
    }))
  };
}
