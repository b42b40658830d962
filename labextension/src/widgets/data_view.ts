/** anywidget module: the data view (see data/view.ts). */
import './data_view.css';
import { renderDataView } from './data/view';
import type { WidgetModel } from './shared/dom';

export default {
  render({ model, el }: { model: WidgetModel; el: HTMLElement }) {
    return renderDataView({ model, el });
  }
};
