// Reads the VS Code theme from the page's CSS variables and tells the app when it changes
// (VS Code swaps the body's class: vscode-light, vscode-dark, vscode-high-contrast...).
import { THEME_VARS, chartTheme, type ChartTheme, type ThemeVars } from './logic/theme-layout';

export function readTheme(): ChartTheme {
  const style = getComputedStyle(document.body);
  const vars: ThemeVars = {};
  for (const v of THEME_VARS) vars[v] = style.getPropertyValue(v);
  return chartTheme(vars);
}

/** Calls `onChange` after the body's theme class or inline variables change. */
export function watchTheme(onChange: () => void): () => void {
  let last = document.body.className + '|' + (document.body.getAttribute('style') ?? '');
  const obs = new MutationObserver(() => {
    const now = document.body.className + '|' + (document.body.getAttribute('style') ?? '');
    if (now === last) return;
    last = now;
    onChange();
  });
  obs.observe(document.body, { attributes: true, attributeFilter: ['class', 'style', 'data-vscode-theme-kind'] });
  return () => obs.disconnect();
}
