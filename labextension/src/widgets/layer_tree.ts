/** anywidget module: the layer tree (see tree/view.ts). */
import './layer_tree.css';
import type { WidgetModel } from './shared/dom';
import { snapshotAware } from './shared/snapshot';
import { renderLayerTree } from './tree/view';

const render = snapshotAware(renderLayerTree, 'trait');

export default {
  render({ model, el }: { model: WidgetModel; el: HTMLElement }) {
    return render({ model, el });
  }
};
