/** anywidget module: the head designer (see head/view.ts). */
import './head_designer.css';
import { renderHeadDesigner } from './head/view';
import type { WidgetModel } from './shared/dom';
import { snapshotAware } from './shared/snapshot';

const render = snapshotAware(renderHeadDesigner, 'all');

export default {
  render({ model, el }: { model: WidgetModel; el: HTMLElement }) {
    return render({ model, el });
  }
};
