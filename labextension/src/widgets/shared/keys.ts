/**
 * Keys that a focused control of a panel uses (Enter / Space activate, arrows / Home /
 * End move) stay out of JupyterLab's notebook shortcuts, which would otherwise take them
 * from the output area (Enter: edit the cell, arrows: move between cells).
 */

const CONTROL_KEYS = new Set([' ', 'Enter', 'ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'Home', 'End']);

export function keepControlKeys(root: HTMLElement): void {
  root.addEventListener('keydown', event => {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return; // Shift+Enter still runs the cell
    const target = event.target;
    if (!(target instanceof HTMLElement) || target === root || !CONTROL_KEYS.has(event.key)) return;
    if (target.matches('button, select, [tabindex]')) event.stopPropagation();
  });
}
