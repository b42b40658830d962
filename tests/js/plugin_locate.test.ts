/** The plugin's look-up of the notebook cell a widget's event came from (no JupyterLab needed). */

import { eventOrigin, locateCell } from '@tw/plugin/locate';
import { at } from '@tw/widgets/shared/array';
import { INSERT_EVENT, labPlugin, requestInsertCell } from '@tw/widgets/shared/protocol';
import { describe, expect, it } from 'vitest';
import { must } from './fixtures';

/** Two fake notebook panels with three cells each; a widget element inside a cell's output. */
function notebooks() {
  const panels = [0, 1].map(p => {
    const node = document.createElement('div');
    node.className = `panel-${p}`;
    const widgets = [0, 1, 2].map(c => {
      const cell = document.createElement('div');
      cell.className = `cell-${p}-${c}`;
      const output = document.createElement('div');
      output.className = 'output';
      cell.append(output);
      node.append(cell);
      return { node: cell };
    });
    document.body.append(node);
    return { node, content: { widgets } };
  });
  const widgetIn = (p: number, c: number) => {
    const el = document.createElement('div');
    const cell = at(at(panels, p, 'panel').content.widgets, c, 'cell');
    must(cell.node.querySelector('.output')).append(el);
    return el;
  };
  return { panels, widgetIn };
}

describe('locateCell', () => {
  it('finds the panel and the index of the cell whose output holds the node', () => {
    const { panels, widgetIn } = notebooks();
    const w = widgetIn(1, 2);
    const found = locateCell(panels, w);
    expect(found?.panel).toBe(panels[1]);
    expect(found?.index).toBe(2);
    expect(locateCell(panels, widgetIn(0, 0))).toEqual({ panel: panels[0], index: 0 });
  });

  it('is null for a node in no cell, or no node (then the plugin falls back to the active cell)', () => {
    const { panels } = notebooks();
    const outside = document.createElement('div');
    document.body.append(outside);
    expect(locateCell(panels, outside)).toBeNull();
    expect(locateCell(panels, at(panels, 0).node)).toBeNull(); // in a notebook but not in a cell
    expect(locateCell(panels, null)).toBeNull();
    expect(locateCell([], outside)).toBeNull();
  });

  it('the event a widget dispatches reaches the document with its origin, and preventDefault reports success', () => {
    const { panels, widgetIn } = notebooks();
    const w = widgetIn(0, 1);
    const inner = document.createElement('button');
    w.append(inner);
    let where: ReturnType<typeof locateCell> = null;
    const listener = (e: Event) => {
      where = locateCell(panels, eventOrigin(e));
      e.preventDefault();
    };
    document.addEventListener(INSERT_EVENT, listener);
    try {
      expect(requestInsertCell(inner, 'print(1)')).toBe(true);
    } finally {
      document.removeEventListener(INSERT_EVENT, listener);
    }
    expect(where).toEqual({ panel: panels[0], index: 1 });
    expect(requestInsertCell(inner, 'print(1)')).toBe(false); // nobody listening: not inserted
  });

  it('an event from inside a shadow root is located by the shadow host', () => {
    const { panels, widgetIn } = notebooks();
    const host = widgetIn(1, 0);
    const shadow = host.attachShadow({ mode: 'open' });
    const inner = document.createElement('div');
    shadow.append(inner);
    let origin: Node | null = null;
    let where: ReturnType<typeof locateCell> = null;
    const listener = (e: Event) => {
      origin = eventOrigin(e);
      where = locateCell(panels, origin);
    };
    document.addEventListener(INSERT_EVENT, listener);
    requestInsertCell(inner, 'x');
    document.removeEventListener(INSERT_EVENT, listener);
    expect(origin).toBe(host);
    expect(where).toEqual({ panel: panels[1], index: 0 });
  });
});

describe('labPlugin', () => {
  it('is the global the plugin sets, or null', () => {
    expect(labPlugin()).toBeNull();
    window.transferWidgets = { version: '0', insertCellBelow: () => true };
    expect(labPlugin()?.version).toBe('0');
    Object.assign(window, { transferWidgets: { version: '0' } }); // not the plugin's shape
    expect(labPlugin()).toBeNull();
    delete window.transferWidgets;
  });
});
