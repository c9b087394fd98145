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

  /* ---------- where things are, and the interface's strings ----------
   * The page says where the API and the articles are (url_for on the server), so the app
   * works when it is mounted under a path such as /search/. Strings come translated from
   * the server's catalogue; {name} placeholders are filled in here. */

  const site = document.body.dataset;
  const SITE_NAME = site.siteName || "searchapp";
  const API_SEARCH = site.apiSearch || "/api/search";
  const API_SUGGEST = site.apiSuggest || "/api/suggest";
  const ARTICLES = site.articles || "/articles/";
  const LANG = document.documentElement.lang || "en";
  const HL = new URLSearchParams(location.search).get("hl");
  let STRINGS = {};
  try {
    STRINGS = JSON.parse(site.strings || "{}");
  } catch (error) {
    STRINGS = {};
  }

  /** A translated string with {name} placeholders replaced by text or nodes. */
  function t(key, values) {
    const parts = fill(STRINGS[key] || key, values || {});
    return parts.every((p) => typeof p === "string") ? parts.join("") : parts;
  }

  function fill(template, values) {
    const out = [];
    for (const piece of String(template).split(/(\{[a-z]+\})/)) {
      const name = /^\{([a-z]+)\}$/.exec(piece);
      if (name && name[1] in values) {
        const value = values[name[1]];
        out.push(value instanceof Node ? value : String(value));
      }
      else if (piece) out.push(piece);
    }
    return out;
  }

  function plural(key, n, values) {
    return t(key + (n === 1 ? "_one" : "_other"), { n: n.toLocaleString(LANG), ...values });
  }

  function formatDay(iso) {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(iso || ""));
    if (!match) return String(iso || "");
    const day = new Date(Date.UTC(+match[1], +match[2] - 1, +match[3]));
    return new Intl.DateTimeFormat(LANG, { dateStyle: "long", timeZone: "UTC" }).format(day);
  }

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
      const url = API_SUGGEST + "?" + new URLSearchParams({ q: typed, limit: "7" });
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
      const args = new URLSearchParams();
      if (q.trim()) args.set("q", q.trim());
      // a long article is shown 200 chunks a page (searching.ARTICLE_PAGE_CHUNKS)
      const page = Math.floor((position || 0) / 200) + 1;
      if (page > 1) args.set("page", String(page));
      if (HL) args.set("hl", HL);
      const query = args.toString() ? "?" + args : "";
      return ARTICLES + path + query + "#chunk-" + position;
    }

    /** The API does not take the page's own parameters (hl: the interface language). */
    function apiParams(params) {
      const copy = new URLSearchParams(params);
      copy.delete("hl");
      return copy;
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
        const response = await fetch(API_SEARCH + "?" + apiParams(params), {
          signal: controller.signal,
          headers: { Accept: "application/json" },
        });
        const body = await response.json();
        if (mine !== sequence) return;
        if (!response.ok) {
          const message = (body && body.error && body.error.message) || t("search_failed");
          showError(message, params);
        } else {
          render(body, params);
        }
      } catch (error) {
        if (error.name === "AbortError" || mine !== sequence) return;
        lastKey = null;
        showError(t("unavailable"), params);
      } finally {
        if (mine === sequence) results.removeAttribute("aria-busy");
      }
    }

    function updateLocation(params) {
      const q = params.get("q") || "";
      const url = q.trim() || hasFilters(params) ? pageUrl(params) : searchPath;
      history.replaceState(history.state, "", url);
      document.title = q.trim() ? q.trim() + " – " + SITE_NAME : SITE_NAME;
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
          el("h2", null, t("search_didnt_work")),
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

      const count = el("strong", null, Number(result.total).toLocaleString(LANG));
      const shown = result.showing_results_for || q.trim();
      status.replaceChildren(...el("span", null,
        shown
          ? plural("results_for", result.total, { n: count, q: el("q", null, shown) })
          : plural("results", result.total, { n: count }),
        pages ? " · " + t("page_of", { page: pages.page, last: pages.last }) : null,
      ).childNodes);
      jsonLink.href = API_SEARCH + "?" + apiParams(params);
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
        const photo = el("span", { class: "photo-meta" }, cameraIcon(), " ");
        const name = el("span", { class: "photographer" }, hit.photographer || "");
        const date = el("time", { class: "photo-date", datetime: hit.photo_date || "" },
          formatDay(hit.photo_date));
        if (hit.photographer && hit.photo_date) {
          photo.append(...[t("photo_by_taken", { name, date })].flat());
        } else if (hit.photographer) {
          photo.append(...[t("photo_by", { name })].flat());
        } else {
          photo.append(...[t("photo_taken", { date })].flat());
        }
        meta.append(photo);
      }
      if (hit.date) {
        const date = el("time", { datetime: hit.date }, formatDay(hit.date));
        meta.append(el("span", null, t("published", { date })));
      }
      meta.append(el("span", null, langLabel(hit.lang)));
      // the original page when the server links there (it is an http(s) URL from the index);
      // the other link goes in the meta line, as on the server-rendered page
      const local = articleUrl(hit.article_id, marked, hit.position);
      const original = /^https?:\/\//i.test(hit.source_url || "") ? hit.source_url : null;
      const href = labels.links === "source" && original ? original : local;
      if (original) {
        meta.append(labels.links === "source"
          ? el("a", { class: "hit-alt-link", href: local }, t("archive_copy"))
          : el("a", { class: "hit-alt-link", href: original, rel: "noopener noreferrer" }, t("original")));
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
            "aria-label": t("remove_filter_named", { name: filterLabel(name), value: shown }),
          },
          el("span", { class: "filter-name" }, filterLabel(name) + ":"), " " + shown + " ",
          el("span", { class: "filter-x", "aria-hidden": "true" }, "×")),
        );
      }
      if (chips.length > 2) {
        const none = Object.fromEntries(FILTERS.map((name) => [name, null]));
        chips.push(" ", el("a", { class: "clear-filters", href: pageUrl(params, { ...none, page: null }) }, t("clear_all")));
      }
      activeFilters.replaceChildren(
        ...(chips.length ? [el("span", { class: "active-filters-label" }, t("filtered_by"))] : []),
        ...chips,
      );
      activeFilters.hidden = !chips.length;
    }

    function renderNotices(result, params, q) {
      if (result.showing_results_for) {
        notices.append(el("p", { class: "notice notice-correction" }, t("correction", {
          original: el("q", { class: "original" }, q),
          corrected: el("a", { href: pageUrl(params, { q: result.showing_results_for, page: null }) },
            el("strong", null, result.showing_results_for)),
        })));
      } else if (result.suggestion) {
        notices.append(el("p", { class: "notice notice-suggestion" },
          t("did_you_mean"), " ",
          el("a", { href: pageUrl(params, { q: result.suggestion, page: null }) },
            el("strong", null, result.suggestion)),
          "?"));
      }
      if (result.match === "any" && result.total) {
        notices.append(el("p", { class: "notice notice-any" },
          t("match_any")));
      }
    }

    function renderEmpty(result, params, q) {
      if (result.page > 1 && result.total) {
        empty.append(el("section", { class: "state state-empty" },
          el("h2", null, t("no_results_on_page", { page: result.page })),
          el("p", null, t("only_n_results", { n: result.total }), " ",
            el("a", { href: pageUrl(params, { page: null }) }, t("first_page")), ".")));
        return;
      }
      const tips = el("ul", { class: "empty-tips" });
      if (result.suggestion) {
        tips.append(el("li", null, t("did_you_mean"), " ",
          el("a", { href: pageUrl(params, { q: result.suggestion, page: null }) }, result.suggestion), "?"));
      }
      if (hasFilters(params)) {
        const none = Object.fromEntries(FILTERS.map((name) => [name, null]));
        tips.append(el("li", null,
          el("a", { href: pageUrl(params, { ...none, page: null }) }, t("without_filters"))));
      }
      tips.append(
        el("li", null, t("tip_spelling")),
        el("li", null, t("tip_language")),
      );
      empty.append(el("section", { class: "state state-empty" },
        el("h2", null, q.trim() ? t("no_results_for_q", { q: el("q", null, q) }) : t("no_results")),
        tips));
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
          "aria-label": t(n === page ? "page_n_current" : "page_n", { page: n }),
        }, String(n))));
        previous = n;
      }
      pagination.append(
        page > 1
          ? el("a", { class: "page-prev", rel: "prev", href: pageUrl(params, { page: page - 1 }) },
            el("span", { "aria-hidden": "true" }, "‹"), " " + t("previous"))
          : el("span", { class: "page-prev is-disabled", "aria-hidden": "true" }, "‹ " + t("previous")),
        el("ol", { class: "page-numbers" }, items),
        page < last
          ? el("a", { class: "page-next", rel: "next", href: pageUrl(params, { page: page + 1 }) },
            t("next") + " ", el("span", { "aria-hidden": "true" }, "›"))
          : el("span", { class: "page-next is-disabled", "aria-hidden": "true" }, t("next") + " ›"),
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
            title: on ? t("remove_filter") : null,
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
