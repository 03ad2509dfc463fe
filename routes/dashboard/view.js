// The view's state in the URL's fragment (#panel=keys&prefix=user%3A&limit=20&key=user%3A7), so
// that a link opens the same view. The fragment never reaches the server; the token is never in it.

/** What the fragment says, with defaults. */
export function readView() {
  const p = new URLSearchParams(location.hash.slice(1));
  return {
    panel: p.get("panel"),
    prefix: p.get("prefix") ?? "",
    limit: p.get("limit"),
    cursor: p.get("cursor") ?? "",
    /** The cursors of the pages before this one, for "Previous". */
    back: p.getAll("back"),
    key: p.get("key"),
  };
}

/** Replaces the fragment with `view` (empty entries left out), adding no history entry. */
export function writeView(view) {
  const p = new URLSearchParams();
  for (const [name, value] of Object.entries(view)) {
    for (const one of Array.isArray(value) ? value : [value]) {
      if (one !== null && one !== undefined) p.append(name, one);
    }
  }
  history.replaceState(null, "", `#${p}`);
}

/** Scrolls to the panel named `name`: the section whose heading's id is `<name>-title`. */
export function showPanel(name) {
  if (name === null) return;
  document.getElementById(`${name}-title`)?.closest("section")?.scrollIntoView();
}

/** Gives every panel's heading a link to the panel, to copy or share. */
export function linkPanels() {
  for (const heading of document.querySelectorAll("main section > h2[id$='-title']")) {
    const link = document.createElement("a");
    link.href = `#panel=${heading.id.slice(0, -"-title".length)}`;
    link.className = "permalink";
    link.textContent = "#";
    link.title = "Link to this panel";
    heading.append(" ", link);
  }
}
