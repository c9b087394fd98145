/* searchapp: progressive enhancement of the server-rendered pages.
 *
 * Without this file every page works: the form submits, results are rendered by the server.
 * With it: results follow the typing (debounced, stale requests aborted, nothing sent while
 * an input method is composing Chinese), the URL follows the query (history.replaceState),
 * "/" focuses the search box, arrow keys move through suggestions and results.
 *
 * Only the API's `snippet` field is parsed as HTML, and only its text and <mark> elements
 * are kept; everything else reaches the page as text.
 */
(function () {
  "use strict";

  const DEBOUNCE_MS = 150;
  const FILTERS = ["kind", "section", "article", "lang", "date_from", "date_to"];
  const FACETS = ["kind", "lang", "section"];
  const MAX_PAGE = 1000;
  const MAX_RESULTS_WINDOW = 10000;

  const form = document.querySelector(".searchform");
  const input = document.getElementById("q");
  if (!form || !input) return;
  document.documentElement.classList.add("js");

  /* ---------- small DOM helpers ---------- */

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined && child !== false) node.append(child);
    }
    return node;
  }

  function cameraIcon() {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", "icon");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const body = document.createElementNS(ns, "path");
    body.setAttribute("d", "M4 8h3l2-3h6l2 3h3v11H4z");
    const lens = document.createElementNS(ns, "circle");
    lens.setAttribute("cx", "12");
    lens.setAttribute("cy", "13");
    lens.setAttribute("r", "3.5");
    svg.append(body, lens);
    return svg;
  }

  /** The highlighted snippet as nodes: text and <mark> only, whatever the string holds. */
  function snippetNodes(html) {
    const template = document.createElement("template");
    template.innerHTML = String(html || ""); // the API's snippet: escaped text + <mark>
    const out = document.createDocumentFragment();
    (function copy(from, to) {
      for (const node of from.childNodes) {
        if (node.nodeType === Node.TEXT_NODE) {
          to.append(node.data);
        } else if (node.nodeName === "MARK") {
          const mark = document.createElement("mark");
          copy(node, mark);
          to.append(mark);
        } else {
          to.append(node.textContent || "");
        }
      }
    })(template.content, out);
    return out;
  }

  function isTyping(target) {
    return (
      target instanceof HTMLElement &&
      (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))
    );
  }

  /* ---------- "/" focuses the search box, on every page ---------- */

  document.addEventListener("keydown", (event) => {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.isComposing || isTyping(event.target)) return;
    event.preventDefault();
    input.focus();
    input.select();
  });

  /* ---------- live search (search page only) ---------- */

  const area = document.getElementById("results-area");
  const live = area ? setUpLiveSearch(area) : null;

  /* ---------- suggestions (every page): an ARIA combobox ---------- */

  const list = document.getElementById("suggestions");
  let suggestions = [];
  let active = -1;
  let suggestController = null;

  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", "suggestions");

  function closeSuggestions() {
    suggestions = [];
    active = -1;
    if (list) {
      list.hidden = true;
      list.replaceChildren();
    }
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function showSuggestions(items, typed) {
    if (!list || document.activeElement !== input) return;
    suggestions = items.filter((s) => s !== typed).slice(0, 6);
    active = -1;
    if (!suggestions.length) {
      closeSuggestions();
      return;
    }
    list.replaceChildren(
      ...suggestions.map((text, i) => {
        const option = el("li", { id: "suggestion-" + i, role: "option", "aria-selected": "false" });
        if (text.toLowerCase().startsWith(typed.toLowerCase())) {
          option.append(
            el("span", { class: "typed" }, text.slice(0, typed.length)),
            el("span", { class: "completion" }, text.slice(typed.length)),
          );
        } else {
          option.append(text);
        }
        option.addEventListener("mousedown", (event) => event.preventDefault());
        option.addEventListener("click", () => choose(i));
        return option;
      }),
    );
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function highlight(index) {
    active = index;
    if (!list) return;
    list.querySelectorAll("[role=option]").forEach((option, i) => {
      option.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    if (index >= 0) input.setAttribute("aria-activedescendant", "suggestion-" + index);
    else input.removeAttribute("aria-activedescendant");
  }

  function choose(index) {
    const text = suggestions[index];
    closeSuggestions();
    if (text === undefined) return;
    input.value = text;
    if (live) live.searchNow();
    else form.submit();
  }

  async function fetchSuggestions(typed) {
    if (suggestController) suggestController.abort();
    if (!list || !typed.trim() || /\s$/.test(typed)) {
      closeSuggestions();
      return;
    }
    suggestController = new AbortController();
    try {
      const url = "/api/suggest?" + new URLSearchParams({ q: typed, limit: "7" });
      const response = await fetch(url, {
        signal: suggestController.signal,
        headers: { Accept: "application/json" },
      });
      if (!response.ok) return;
      const body = await response.json();
      if (input.value === typed && Array.isArray(body) && Array.isArray(body[1])) {
        showSuggestions(body[1].map(String), typed);
      }
    } catch (error) {
      if (error.name !== "AbortError") closeSuggestions();
    }
  }

  /* ---------- typing, composing, keys ---------- */

  let composing = false;
  let timer = 0;

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (composing) return;
      if (live) live.search();
      fetchSuggestions(input.value);
    }, DEBOUNCE_MS);
  }

  input.addEventListener("compositionstart", () => {
    composing = true;
    clearTimeout(timer);
  });
  input.addEventListener("compositionend", () => {
    composing = false;
    schedule();
  });
  input.addEventListener("input", (event) => {
    if (composing || event.isComposing) return;
    schedule();
  });
  input.addEventListener("blur", () => setTimeout(closeSuggestions, 0));

  function hitLinks() {
    return Array.from(document.querySelectorAll("#hits .hit-link"));
  }

  input.addEventListener("keydown", (event) => {
    if (event.isComposing || composing) return;
    const open = suggestions.length > 0;
    if (event.key === "ArrowDown") {
      if (open && active < suggestions.length - 1) {
        event.preventDefault();
        highlight(active + 1);
        return;
      }
      const links = hitLinks();
      if (links.length) {
        event.preventDefault();
        closeSuggestions();
        links[0].focus();
      }
    } else if (event.key === "ArrowUp" && open && active >= 0) {
      event.preventDefault();
      highlight(active - 1);
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      closeSuggestions();
    } else if (event.key === "Enter") {
      if (open && active >= 0) {
        event.preventDefault();
        choose(active);
      } else if (live) {
        event.preventDefault();
        closeSuggestions();
        live.searchNow();
      }
    }
  });

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (!(target instanceof HTMLElement) || !target.classList.contains("hit-link")) return;
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    const links = hitLinks();
    const index = links.indexOf(target);
    if (index < 0) return;
    event.preventDefault();
    if (event.key === "ArrowDown") {
      links[Math.min(index + 1, links.length - 1)].focus();
    } else if (index === 0) {
      input.focus();
    } else {
      links[index - 1].focus();
    }
  });

  /* ---------- rendering results from the JSON API ---------- */

  function setUpLiveSearch(area) {
    let labels = {};
    try {
      labels = JSON.parse(area.dataset.labels || "{}");
    } catch (error) {
      labels = {};
    }
    const kindLabel = (kind) => (labels.kinds && labels.kinds[kind]) || kind || "";
    const langLabel = (lang) => (labels.langs && labels.langs[lang]) || lang || "";
    const filterLabel = (name) => (labels.filters && labels.filters[name]) || name;

    const $ = (id) => document.getElementById(id);
    const results = area.querySelector(".results");
    const intro = $("intro");
    const status = $("status");
    const jsonLink = $("json-link");
    const activeFilters = $("active-filters");
    const notices = $("notices");
    const hits = $("hits");
    const empty = $("empty");
    const pagination = $("pagination");
    const facets = $("facets");
    const searchPath = form.getAttribute("action") || "/";
    let controller = null;
    let lastKey = null;
    let sequence = 0;

    function pageUrl(params, changes) {
      const next = new URLSearchParams();
      for (const [key, value] of params) if (value !== "") next.set(key, value);
      for (const [key, value] of Object.entries(changes || {})) {
        if (value === null) next.delete(key);
        else next.set(key, String(value));
      }
      if (next.get("page") === "1") next.delete("page");
      const query = next.toString();
      return searchPath + (query ? "?" + query : "");
    }

    function articleUrl(articleId, q, position) {
      const path = String(articleId).split("/").map(encodeURIComponent).join("/");
      const params = new URLSearchParams(q.trim() ? { q: q.trim() } : {});
      // a long article is shown 200 chunks a page (searching.ARTICLE_PAGE_CHUNKS)
      const page = Math.floor((position || 0) / 200) + 1;
      if (page > 1) params.set("page", String(page));
      const query = params.toString() ? "?" + params : "";
      return "/articles/" + path + query + "#chunk-" + position;
    }

    function currentParams() {
      const params = new URLSearchParams(location.search);
      params.set("q", input.value);
      params.delete("page");
      return params;
    }

    function hasFilters(params) {
      return FILTERS.some((name) => params.get(name));
    }

    function search() {
      const params = currentParams();
      const key = params.toString();
      if (key === lastKey) return;
      lastKey = key;
      if (controller) controller.abort();
      if (!input.value.trim() && !hasFilters(params)) {
        controller = null;
        showIntro(params);
        return;
      }
      run(params);
    }

    function searchNow() {
      clearTimeout(timer);
      lastKey = null;
      search();
    }

    async function run(params) {
      controller = new AbortController();
      const mine = ++sequence;
      results.setAttribute("aria-busy", "true");
      try {
        const response = await fetch("/api/search?" + params, {
          signal: controller.signal,
          headers: { Accept: "application/json" },
        });
        const body = await response.json();
        if (mine !== sequence) return;
        if (!response.ok) {
          const message = (body && body.error && body.error.message) || "Search failed.";
          showError(message, params);
        } else {
          render(body, params);
        }
      } catch (error) {
        if (error.name === "AbortError" || mine !== sequence) return;
        lastKey = null;
        showError("Search is unavailable right now. Check your connection and try again.", params);
      } finally {
        if (mine === sequence) results.removeAttribute("aria-busy");
      }
    }

    function updateLocation(params) {
      const q = params.get("q") || "";
      const url = q.trim() || hasFilters(params) ? pageUrl(params) : searchPath;
      history.replaceState(history.state, "", url);
      document.title = q.trim() ? q.trim() + " – searchapp" : "searchapp";
    }

    function clearResults() {
      for (const node of [notices, hits, empty, pagination, facets]) node.replaceChildren();
      pagination.hidden = true;
      jsonLink.hidden = true;
      document.querySelectorAll("main > .state-error").forEach((node) => node.remove());
    }

    function showIntro(params) {
      clearResults();
      status.textContent = "";
      renderFilters(params);
      if (intro) intro.hidden = false;
      updateLocation(params);
    }

    function showError(message, params) {
      clearResults();
      if (intro) intro.hidden = true;
      document.body.classList.remove("home");
      status.textContent = "";
      empty.append(
        el("section", { class: "state state-error", role: "alert" },
          el("h2", null, "That search didn’t work"),
          el("p", { class: "state-message" }, message)),
      );
      updateLocation(params);
    }

    function render(result, params) {
      clearResults();
      if (intro) intro.hidden = true;
      document.body.classList.remove("home");
      const q = params.get("q") || "";
      const marked = result.showing_results_for || q;
      const pages = paging(result);

      status.replaceChildren(...el("span", null,
        el("strong", null, Number(result.total).toLocaleString("en")),
        result.total === 1 ? " result" : " results",
        result.showing_results_for || q.trim()
          ? [" for ", el("q", null, result.showing_results_for || q)]
          : null,
        pages ? " · page " + pages.page + " of " + pages.last : null,
      ).childNodes);
      jsonLink.href = "/api/search?" + params;
      jsonLink.hidden = false;

      renderFilters(params);
      renderNotices(result, params, q);
      hits.start = (result.page - 1) * result.per_page + 1;
      hits.replaceChildren(...result.hits.map((hit) => renderHit(hit, marked)));
      if (!result.hits.length) renderEmpty(result, params, q);
      if (pages) renderPagination(pages, params);
      renderFacets(result, params);
      updateLocation(params);
    }

    function renderHit(hit, marked) {
      const kind = String(hit.kind || "");
      const lang = hit.lang || null;
      const meta = el("p", { class: "hit-meta" });
      if (kind === "caption" && (hit.photographer || hit.photo_date)) {
        const photo = el("span", { class: "photo-meta" }, cameraIcon());
        if (hit.photographer) {
          photo.append(" Photo by ", el("span", { class: "photographer" }, hit.photographer));
        }
        if (hit.photo_date) {
          photo.append(
            hit.photographer ? ", taken " : " Photo taken ",
            el("time", { class: "photo-date", datetime: hit.photo_date }, hit.photo_date),
          );
        }
        meta.append(photo);
      }
      if (hit.date) {
        meta.append(el("span", null, "Published ", el("time", { datetime: hit.date }, hit.date)));
      }
      meta.append(el("span", null, langLabel(hit.lang)));
      // the original page when the server links there (it is an http(s) URL from the index);
      // the other link goes in the meta line, as on the server-rendered page
      const local = articleUrl(hit.article_id, marked, hit.position);
      const original = /^https?:\/\//i.test(hit.source_url || "") ? hit.source_url : null;
      const href = labels.links === "source" && original ? original : local;
      if (original) {
        meta.append(labels.links === "source"
          ? el("a", { class: "hit-alt-link", href: local }, "Archive copy")
          : el("a", { class: "hit-alt-link", href: original, rel: "noopener noreferrer" }, "Original"));
      }
      // a title or heading is itself the link, highlighted; other passages get a snippet
      const isTitle = kind === "title" || kind === "heading";
      return el("li", { class: "hit kind-" + kind },
        el("p", { class: "hit-context" },
          el("span", { class: "badge badge-" + kind }, kindLabel(kind)),
          kind !== "title" && (hit.section || kind === "heading")
            ? el("span", { class: "hit-article", lang }, hit.article_title || "")
            : null),
        el("h2", { class: "hit-title", lang },
          el("a", { class: "hit-link", href },
            isTitle ? snippetNodes(hit.snippet) : hit.section || hit.article_title || hit.article_id)),
        isTitle ? null : el("p", { class: "snippet", lang }, snippetNodes(hit.snippet)),
        meta);
    }

    function renderFilters(params) {
      const chips = [];
      for (const name of FILTERS) {
        const value = params.get(name);
        if (!value) continue;
        const shown = name === "kind" ? kindLabel(value) : name === "lang" ? langLabel(value) : value;
        chips.push(
          " ",
          el("a", {
            class: "filter-chip",
            href: pageUrl(params, { [name]: null, page: null }),
            "aria-label": "Remove filter " + filterLabel(name) + ": " + shown,
          },
          el("span", { class: "filter-name" }, filterLabel(name) + ":"), " " + shown + " ",
          el("span", { class: "filter-x", "aria-hidden": "true" }, "×")),
        );
      }
      if (chips.length > 2) {
        const none = Object.fromEntries(FILTERS.map((name) => [name, null]));
        chips.push(" ", el("a", { class: "clear-filters", href: pageUrl(params, { ...none, page: null }) }, "Clear all"));
      }
      activeFilters.replaceChildren(
        ...(chips.length ? [el("span", { class: "active-filters-label" }, "Filtered by")] : []),
        ...chips,
      );
      activeFilters.hidden = !chips.length;
    }

    function renderNotices(result, params, q) {
      if (result.showing_results_for) {
        notices.append(el("p", { class: "notice notice-correction" },
          "No results for ", el("q", { class: "original" }, q), ". Showing results for ",
          el("a", { href: pageUrl(params, { q: result.showing_results_for, page: null }) },
            el("strong", null, result.showing_results_for)),
          " instead."));
      } else if (result.suggestion) {
        notices.append(el("p", { class: "notice notice-suggestion" },
          "Did you mean ",
          el("a", { href: pageUrl(params, { q: result.suggestion, page: null }) },
            el("strong", null, result.suggestion)),
          "?"));
      }
      if (result.match === "any" && result.total) {
        notices.append(el("p", { class: "notice notice-any" },
          "No passage has all the words; showing passages with some of them."));
      }
    }

    function renderEmpty(result, params, q) {
      if (result.page > 1 && result.total) {
        empty.append(el("section", { class: "state state-empty" },
          el("h2", null, "No results on page " + result.page),
          el("p", null, "There are only " + result.total + " results. ",
            el("a", { href: pageUrl(params, { page: null }) }, "Go to the first page"), ".")));
        return;
      }
      const tips = el("ul", { class: "empty-tips" });
      if (result.suggestion) {
        tips.append(el("li", null, "Did you mean ",
          el("a", { href: pageUrl(params, { q: result.suggestion, page: null }) }, result.suggestion), "?"));
      }
      if (hasFilters(params)) {
        const none = Object.fromEntries(FILTERS.map((name) => [name, null]));
        tips.append(el("li", null,
          el("a", { href: pageUrl(params, { ...none, page: null }) }, "Search without filters")));
      }
      tips.append(
        el("li", null, "Check the spelling, or try fewer or more general words."),
        el("li", null, "Try the other language: the archive has English and Chinese articles."),
      );
      empty.append(el("section", { class: "state state-empty" },
        el("h2", null, "No results", q.trim() ? [" for ", el("q", null, q)] : null), tips));
    }

    function paging(result) {
      const perPage = result.per_page;
      const last = Math.min(
        Math.ceil(result.total / perPage), MAX_PAGE, Math.floor(MAX_RESULTS_WINDOW / perPage));
      if (last <= 1 && result.page === 1) return null;
      return { page: result.page, last };
    }

    function renderPagination(pages, params) {
      const { page, last } = pages;
      const wanted = new Set([1, last]);
      for (let n = page - 2; n <= page + 2; n++) wanted.add(n);
      const numbers = [...wanted].filter((n) => n >= 1 && n <= last).sort((a, b) => a - b);
      const items = [];
      let previous = 0;
      for (const n of numbers) {
        if (previous && n - previous > 1) {
          items.push(el("li", { class: "page-gap", "aria-hidden": "true" }, "…"));
        }
        items.push(el("li", null, el("a", {
          class: "page-number",
          href: pageUrl(params, { page: n }),
          "aria-current": n === page ? "page" : null,
          "aria-label": "Page " + n + (n === page ? ", current page" : ""),
        }, String(n))));
        previous = n;
      }
      pagination.append(
        page > 1
          ? el("a", { class: "page-prev", rel: "prev", href: pageUrl(params, { page: page - 1 }) },
            el("span", { "aria-hidden": "true" }, "‹"), " Previous")
          : el("span", { class: "page-prev is-disabled", "aria-hidden": "true" }, "‹ Previous"),
        el("ol", { class: "page-numbers" }, items),
        page < last
          ? el("a", { class: "page-next", rel: "next", href: pageUrl(params, { page: page + 1 }) },
            "Next ", el("span", { "aria-hidden": "true" }, "›"))
          : el("span", { class: "page-next is-disabled", "aria-hidden": "true" }, "Next ›"),
      );
      pagination.hidden = false;
    }

    function renderFacets(result, params) {
      for (const name of FACETS) {
        const counts = (result.facets && result.facets[name]) || {};
        const current = params.get(name) || "";
        const values = Object.entries(counts).map(([value, count]) => {
          const on = value === current;
          const shown = name === "kind" ? kindLabel(value) : name === "lang" ? langLabel(value) : value;
          return el("li", null, el("a", {
            class: "facet-link" + (on ? " is-active" : ""),
            href: pageUrl(params, { [name]: on ? null : value, page: null }),
            "aria-current": on ? "true" : null,
            title: on ? "Remove this filter" : null,
          }, el("span", { class: "facet-value" }, shown), " ",
          el("span", { class: "facet-count" }, String(count))));
        });
        if (values.length) {
          facets.append(el("section", { class: "facet facet-" + name },
            el("h2", { class: "facet-title" }, filterLabel(name)),
            el("ul", { class: "facet-values" }, values)));
        }
      }
    }

    // The page as the server rendered it corresponds to the URL; don't refetch it. A box
    // the browser refilled (back button) no longer matches the URL: search for its text.
    lastKey = currentParams().toString();
    window.addEventListener("pageshow", () => {
      if (input.value !== (new URLSearchParams(location.search).get("q") || "")) search();
    });
    return { search, searchNow };
  }
})();
