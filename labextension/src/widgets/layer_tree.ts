/** anywidget module: the layer tree (see tree/view.ts). */
import './layer_tree.css';
import { renderLayerTree, type WidgetModel } from './tree/view';

export default {
  render({ model, el }: { model: WidgetModel; el: HTMLElement }) {
    return renderLayerTree({ model, el });
  }
};
