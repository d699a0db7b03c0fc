// The layout checks of tests/e2e/layout.mjs, as one function that runs inside the page
// (`page.evaluate(layoutProblems)`): it returns what a reader would see as broken, as sentences.
//   - the document scrolls sideways;
//   - an element that hides its overflow (overflow hidden or clip) is smaller than its content, so
//     it cuts its own text off; allowed: a one-line ellipsis whose full text is in a title or
//     aria-label of the element or an ancestor, and the 1 px boxes that hide text for screen readers;
//     boxes that scroll (overflow auto or scroll) are intended scroll areas and are not checked;
//   - two visible runs of text, or text and a chart (svg), overlap by more than 3 px each way
//     (what is scrolled out of view inside a scroll area, or lies under a fixed opaque sheet,
//     does not count).
// Self-contained: the page runs it from its source text, so it may use nothing from outside.
export function layoutProblems() {
  const problems = [];
  const describe = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += `#${el.id}`;
    const cls = typeof el.className === 'string' ? el.className.trim().split(/\s+/).filter(Boolean) : [];
    if (cls.length) s += `.${cls.join('.')}`;
    const text = (el.textContent ?? '').trim().replace(/\s+/g, ' ');
    return text ? `${s} "${text.slice(0, 40)}"` : s;
  };
  const hides = (v) => v === 'hidden' || v === 'clip';
  // Laid out and seen: not display none, not inside a closed <details>, not invisible.
  const rendered = (el) =>
    el.getClientRects().length > 0 &&
    el.checkVisibility({ contentVisibilityAuto: true, visibilityProperty: true, opacityProperty: true });

  const root = document.scrollingElement ?? document.documentElement;
  if (root.scrollWidth > root.clientWidth + 1) {
    problems.push(`the document scrolls sideways: ${root.scrollWidth} px wide in a ${root.clientWidth} px window`);
  }

  const visuallyHidden = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const r = e.getBoundingClientRect();
      const cs = getComputedStyle(e);
      if (r.width <= 1 && r.height <= 1 && (hides(cs.overflowX) || cs.clip !== 'auto')) return true;
    }
    return false;
  };
  const fullTextNearby = (el) => {
    const text = (el.textContent ?? '').trim();
    for (let e = el, depth = 0; e && depth < 4; e = e.parentElement, depth++) {
      const given = `${e.getAttribute('title') ?? ''} ${e.getAttribute('aria-label') ?? ''}`;
      if (text && given.includes(text)) return true;
    }
    return false;
  };

  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('svg') || !rendered(el)) continue;
    const cs = getComputedStyle(el);
    if (cs.display === 'contents') continue;
    const clipsX = hides(cs.overflowX) && el.scrollWidth > el.clientWidth + 1;
    const clipsY = hides(cs.overflowY) && el.scrollHeight > el.clientHeight + 1;
    if (!clipsX && !clipsY) continue;
    if (!(el.textContent ?? '').trim() && !el.querySelector('svg, img, input, select, textarea, button')) continue;
    if (visuallyHidden(el)) continue;
    if (clipsX && !clipsY && cs.textOverflow === 'ellipsis' && fullTextNearby(el)) continue;
    const how = [
      clipsX ? `content ${el.scrollWidth} px wide in ${el.clientWidth} px` : '',
      clipsY ? `content ${el.scrollHeight} px high in ${el.clientHeight} px` : '',
    ].filter(Boolean).join(', ');
    problems.push(`${describe(el)} clips its content (${how})`);
  }

  // The part of a box left visible by the scroll areas and clipping boxes around it.
  const visibleRect = (node, rect) => {
    let { left, top, right, bottom } = rect;
    for (let e = node.parentElement; e && e !== document.body; e = e.parentElement) {
      const cs = getComputedStyle(e);
      if (cs.overflowX === 'visible' && cs.overflowY === 'visible') continue;
      const r = e.getBoundingClientRect();
      left = Math.max(left, r.left);
      top = Math.max(top, r.top);
      right = Math.min(right, r.right);
      bottom = Math.min(bottom, r.bottom);
    }
    return right - left > 0 && bottom - top > 0 ? { left, top, right, bottom } : null;
  };
  // What a fixed, opaque layer (a sheet over the page) covers is not seen: it cannot overlap.
  const layers = [...document.body.querySelectorAll('*')].filter((e) => {
    const cs = getComputedStyle(e);
    return cs.position === 'fixed' && rendered(e) && !/rgba\(.*, 0\)|transparent/.test(cs.backgroundColor);
  });
  const covered = (node, r) =>
    layers.some((layer) => {
      if (layer.contains(node)) return false;
      const l = layer.getBoundingClientRect();
      const x = (r.left + r.right) / 2;
      const y = (r.top + r.bottom) / 2;
      return x >= l.left && x <= l.right && y >= l.top && y <= l.bottom;
    });
  const boxes = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim()) continue;
    const el = node.parentElement;
    if (!el || el.closest('svg, script, style, select, option') || !rendered(el) || visuallyHidden(el)) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const rect of range.getClientRects()) {
      const shown = visibleRect(node, rect);
      if (shown && !covered(node, shown)) boxes.push({ owner: node, what: el, text: node.textContent.trim().slice(0, 30), ...shown });
    }
  }
  for (const svg of document.body.querySelectorAll('svg')) {
    if (!rendered(svg)) continue;
    const shown = visibleRect(svg, svg.getBoundingClientRect());
    if (shown && !covered(svg, shown)) boxes.push({ owner: svg, what: svg, text: `chart ${svg.getAttribute('aria-label') ?? ''}`.trim(), ...shown });
  }
  const SLACK = 3;
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i];
      const b = boxes[j];
      if (a.owner === b.owner || a.owner.contains?.(b.owner) || b.owner.contains?.(a.owner)) continue;
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > SLACK && h > SLACK) {
        problems.push(`"${a.text}" (${describe(a.what)}) and "${b.text}" (${describe(b.what)}) overlap by ${Math.round(w)}x${Math.round(h)} px`);
      }
    }
  }
  return problems;
}
