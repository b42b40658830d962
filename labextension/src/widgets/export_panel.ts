/** anywidget module: the export panel (see export/view.ts). */
import './export_panel.css';
import { renderExportPanel } from './export/view';
import type { WidgetModel } from './shared/dom';
import { snapshotAware } from './shared/snapshot';

const render = snapshotAware(renderExportPanel, 'all');

export default {
  render({ model, el }: { model: WidgetModel; el: HTMLElement }) {
    return render({ model, el });
  }
};
