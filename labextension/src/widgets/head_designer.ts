/** anywidget module: the head designer (see head/view.ts). */
import './head_designer.css';
import type { WidgetModel } from './shared/dom';
import { renderHeadDesigner } from './head/view';

export default {
  render({ model, el }: { model: WidgetModel; el: HTMLElement }) {
    return renderHeadDesigner({ model, el });
  }
};
