// Search on /zoeken/ with the site's Pagefind index. Only that page loads this file.
// The texts come from the page (#search-messages), which the Dutch catalogue fills.

const root = document.querySelector("[data-search]");
const form = root.querySelector("form");
const field = form.elements.q;
const selects = [...form.querySelectorAll("select")];
const status = root.querySelector("[data-search-status]");
const list = root.querySelector("[data-search-results]");
const more = root.querySelector("[data-search-more]");
const unavailableNotice = root.querySelector("[data-search-unavailable]");
const messages = JSON.parse(document.getElementById("search-messages").textContent);
const plural = new Intl.PluralRules(document.documentElement.lang || "nl");
const site = new URL(`${root.dataset.site || "."}/`, location.href);
const PAGE_SIZE = 10;
const TYPING_PAUSE_MS = 250;
const MAX_TERM_LENGTH = 200;

let results = [];
let shown = 0;
let latest = 0;
let typing;
let restoring = history.state?.shown || 0;

const fill = (text, values) =>
  text.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));

const counted = (kind, count, values = {}) =>
  fill(messages[kind][plural.select(count)], { count, ...values });

function chosenFilters() {
  const chosen = {};
  for (const select of selects) {
    if (select.value) chosen[select.name] = select.value;
  }
  return chosen;
}

// Pagefind marks the hits with <mark>. The excerpt is rebuilt from text nodes and
// marks only, so no markup from the index ever reaches the page.
function excerpt(html) {
  const parsed = new DOMParser().parseFromString(html, "text/html").body;
  const paragraph = document.createElement("p");
  paragraph.className = "search-result__excerpt";
  for (const node of parsed.childNodes) {
    if (node.nodeName === "MARK") {
      const mark = document.createElement("mark");
      mark.textContent = node.textContent;
      paragraph.append(mark);
    } else {
      paragraph.append(node.textContent);
    }
  }
  return paragraph;
}

function resultItem(data) {
  const item = document.createElement("li");
  item.className = "search-result";
  const heading = document.createElement("h2");
  const link = document.createElement("a");
  link.href = data.url;
  link.textContent = data.meta.title || data.url;
  heading.append(link);
  item.append(heading);
  if (data.meta.date) {
    const byline = document.createElement("p");
    byline.className = "byline";
    const time = document.createElement("time");
    time.dateTime = data.meta.iso || "";
    time.textContent = data.meta.date;
    byline.append(time);
    item.append(byline);
  }
  item.append(excerpt(data.excerpt || ""));
  return item;
}

// The next batch is claimed before anything is awaited, so a double click cannot show
// the same batch twice; the button is hidden while a batch loads.
async function showMore(ticket) {
  const batch = results.slice(shown, shown + PAGE_SIZE);
  shown += batch.length;
  more.hidden = true;
  const items = (await Promise.all(batch.map((result) => result.data()))).map(resultItem);
  if (ticket !== latest) return;
  list.append(...items);
  more.hidden = shown >= results.length;
  // Back from a result shows as many results as there were.
  history.replaceState({ shown }, "", location.href);
}

function remember(term, chosen) {
  const query = new URLSearchParams();
  if (term) query.set("q", term);
  for (const [name, value] of Object.entries(chosen)) query.set(name, value);
  const address = query.size ? `?${query}` : location.pathname;
  history.replaceState(history.state, "", address);
}

async function search() {
  clearTimeout(typing);
  const ticket = ++latest;
  const term = field.value.trim().slice(0, MAX_TERM_LENGTH);
  const chosen = chosenFilters();
  remember(term, chosen);
  if (!term && !Object.keys(chosen).length) {
    list.replaceChildren();
    status.textContent = "";
    more.hidden = true;
    return;
  }
  const pagefind = await index;
  // A word gives the best matches first; a selection alone, the newest column first.
  const order = term ? {} : { sort: { datum: "desc" } };
  const response = await pagefind.search(term || null, { filters: chosen, ...order });
  if (ticket !== latest) return;
  results = response.results;
  shown = 0;
  list.replaceChildren();
  const restore = restoring;
  restoring = 0;
  do {
    await showMore(ticket);
    if (ticket !== latest) return;
  } while (shown < Math.min(restore, results.length));
  if (!results.length) {
    status.textContent = term ? fill(messages.none, { term }) : messages.none_selected;
  } else if (term) {
    status.textContent = counted("results", results.length, { term });
  } else {
    status.textContent = counted("selection", results.length);
  }
}

// One search that fails (a fragment that did not load) says so; the next may work.
function failed() {
  if (form.hidden) return; // the index did not load; unavailable() has said so
  status.textContent = messages.failed;
  more.hidden = shown >= results.length;
}

// The index itself did not load: the page offers the other ways to find a column.
function unavailable() {
  form.hidden = true;
  list.replaceChildren();
  status.textContent = "";
  more.hidden = true;
  unavailableNotice.hidden = false;
}

async function loadIndex() {
  const pagefind = await import(new URL(`${root.dataset.bundle}/pagefind.js`, site).href);
  await pagefind.options({ baseUrl: site.pathname });
  await pagefind.init();
  return pagefind;
}

// Listening starts at once; a search typed while the index loads waits for it.
const index = loadIndex();
index.catch(unavailable);
const query = new URLSearchParams(location.search);
field.value = (query.get("q") || "").slice(0, MAX_TERM_LENGTH);
for (const select of selects) {
  select.value = query.get(select.name) || "";
  if (select.selectedIndex < 0) select.value = ""; // a value the site does not have
}
const searchNow = () => search().catch(failed);
field.addEventListener("input", () => {
  clearTimeout(typing);
  typing = setTimeout(searchNow, TYPING_PAUSE_MS);
});
form.addEventListener("submit", (event) => {
  event.preventDefault();
  searchNow();
});
for (const select of selects) select.addEventListener("change", searchNow);
more.addEventListener("click", () => {
  const first = shown;
  showMore(latest)
    .then(() => list.children[first]?.querySelector("a")?.focus())
    .catch(failed);
});
// The address keeps only what the page shows: a filter the site no longer has goes.
remember(field.value.trim().slice(0, MAX_TERM_LENGTH), chosenFilters());
if (field.value || Object.keys(chosenFilters()).length) {
  // Arriving with a search (from the header's field): typing goes on where it was.
  field.focus({ preventScroll: true });
  searchNow();
}
