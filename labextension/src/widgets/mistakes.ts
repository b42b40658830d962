/** anywidget module: the mistakes panel (see mistakes/view.ts). */
import './mistakes.css';
import { renderMistakes } from './mistakes/view';
import type { WidgetModel } from './shared/dom';

export default {
  render({ model, el }: { model: WidgetModel; el: HTMLElement }) {
    return renderMistakes({ model, el });
  }
};
