// plotly (through d3) writes a few style attributes with setAttribute('style', ...). Under the panel's
// strict style-src (no 'unsafe-inline') the browser refuses those, which drops heatmap pixelation and
// colour-bar fills. The same declarations set through the CSSOM (element.style.cssText) are allowed
// by CSP and mean the same thing, so route them there. Installed once, before any chart is drawn.

const INSTALLED = Symbol.for('ken.cspStyleShim');

export function installCspStyleShim(): void {
  const proto = Element.prototype as Element & { [INSTALLED]?: boolean };
  if (proto[INSTALLED]) return;
  const original = proto.setAttribute;
  proto.setAttribute = function setAttribute(this: Element, name: string, value: string): void {
    if (name.length === 5 && name.toLowerCase() === 'style' && 'style' in this) {
      (this as HTMLElement).style.cssText = String(value);
      return;
    }
    original.call(this, name, value);
  };
  proto[INSTALLED] = true;
}
