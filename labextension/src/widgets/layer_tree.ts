/** anywidget module: the layer tree (see tree/view.ts). */
import './layer_tree.css';
import type { WidgetModel } from './shared/dom';
import { renderLayerTree } from './tree/view';

export default {
  render({ model, el }: { model: WidgetModel; el: HTMLElement }) {
    return renderLayerTree({ model, el });
  }
};
