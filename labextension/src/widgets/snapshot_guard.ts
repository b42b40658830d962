/** anywidget module: the snapshot guard of an ipywidgets composite (see guard/view.ts). */
import './snapshot_guard.css';
import { renderSnapshotGuard } from './guard/view';
import type { WidgetModel } from './shared/dom';

export default {
  render({ model, el }: { model: WidgetModel; el: HTMLElement }) {
    return renderSnapshotGuard({ model, el });
  }
};
