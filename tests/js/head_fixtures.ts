/** Test helpers for the head designer: a kernel state like the Python widget sends. */
import type { HeadState } from '@tw/widgets/head/types';
import { at } from '@tw/widgets/shared/array';

export function headState(over: Partial<HeadState> = {}): HeadState {
  return {
    base: {
      name: 'backbone',
      input_shape: '(None, 8, 8, 3)',
      output_shape: '(None, 4, 4, 6)',
      params: 168,
      trainable: 168
    },
    layers: [
      { id: 1, type: 'global_average_pooling' },
      { id: 3, type: 'dense', units: 16, activation: 'relu' },
      { id: 2, type: 'dropout', rate: 0.2 }
    ],
    augmentation: [{ id: 4, type: 'random_flip', mode: 'horizontal' }],
    task: 'multiclass',
    num_classes: 3,
    class_names: null,
    optimizer: 'adam',
    learning_rate: 0.001,
    loss: null,
    metrics: null,
    defaults: { loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] },
    recipe: { optimizer_args: '', lr_schedule: '', class_weight: '', loss_args: '' },
    output: { units: 3, activation: 'softmax' },
    preview: [
      { name: 'head_0_global_average_pooling', shape: '(None, 6)', params: 0, trainable: 0 },
      { name: 'head_1_dense', shape: '(None, 16)', params: 112, trainable: 112 },
      { name: 'head_2_dropout', shape: '(None, 16)', params: 0, trainable: 0 },
      { name: 'predictions', shape: '(None, 3)', params: 51, trainable: 51 }
    ],
    head_totals: { total: 163, trainable: 163 },
    model_totals: { total: 331, trainable: 331 },
    errors: {},
    problems: [],
    applied: true,
    controller: true,
    options: {
      layers: ['global_average_pooling', 'global_max_pooling', 'flatten', 'dropout', 'dense', 'batch_norm'],
      augmentation: ['random_flip', 'random_rotation', 'random_zoom', 'random_contrast'],
      tasks: ['multiclass', 'binary', 'multilabel', 'regression'],
      activations: ['relu', 'gelu', 'swish', 'elu', 'selu', 'tanh', 'sigmoid', 'linear'],
      optimizers: ['adam', 'adamw', 'sgd', 'rmsprop', 'nadam', 'adagrad'],
      losses: [
        'sparse_categorical_crossentropy',
        'categorical_crossentropy',
        'binary_crossentropy',
        'mse',
        'mae',
        'huber'
      ],
      presets: [
        { name: 'keras_guide', label: 'Keras guide', description: 'global average pooling, dropout 0.2, output' },
        { name: 'teachable_machine', label: 'Teachable Machine', description: 'dense 100 relu, output' },
        { name: 'linear_probe', label: 'Linear probe', description: 'global average pooling, output' }
      ]
    },
    ...over
  };
}

/** The head state with an invalid dense units value, as the kernel reports it. */
export function invalidState(): HeadState {
  const s = headState();
  s.layers[1] = { ...at(s.layers, 1), units: 'abc' };
  s.errors = { 'head.layers[1].units': "must be a positive integer, got 'abc'" };
  s.problems = ["head.layers[1].units must be a positive integer, got 'abc'"];
  s.applied = false;
  s.preview = null;
  s.head_totals = null;
  s.model_totals = null;
  return s;
}
