/** anywidget module: the mistakes panel (see mistakes/view.ts). */
import './mistakes.css';
import { renderMistakes } from './mistakes/view';
import type { WidgetModel } from './shared/dom';
import { snapshotAware } from './shared/snapshot';

const render = snapshotAware(renderMistakes, 'all');

export default {
  render({ model, el }: { model: WidgetModel; el: HTMLElement }) {
    return render({ model, el });
  }
};
