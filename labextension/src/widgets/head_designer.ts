/** anywidget module: the head designer (see head/view.ts). */
import './head_designer.css';
import { renderHeadDesigner } from './head/view';
import type { WidgetModel } from './shared/dom';

export default {
  render({ model, el }: { model: WidgetModel; el: HTMLElement }) {
    return renderHeadDesigner({ model, el });
  }
};
