/** anywidget module: the data view (see data/view.ts). */
import './data_view.css';
import { renderDataView } from './data/view';
import type { WidgetModel } from './shared/dom';
import { snapshotAware } from './shared/snapshot';

const render = snapshotAware(renderDataView, 'all');

export default {
  render({ model, el }: { model: WidgetModel; el: HTMLElement }) {
    return render({ model, el });
  }
};
