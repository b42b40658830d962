/** anywidget module: the export panel (see export/view.ts). */
import './export_panel.css';
import { renderExportPanel } from './export/view';
import type { WidgetModel } from './shared/dom';

export default {
  render({ model, el }: { model: WidgetModel; el: HTMLElement }) {
    return renderExportPanel({ model, el });
  }
};
