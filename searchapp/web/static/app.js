/* searchapp: progressive enhancement of the server-rendered pages.
 *
 * Without this file every page works: the forms submit, results are rendered by the server.
 * With it: results follow the typing (debounced, stale requests aborted, nothing sent while
 * an input method is composing Chinese), facets, sort, dates and pages apply without a page
 * load, the URL follows the state, "/" focuses the search box, arrow keys move through
 * suggestions and results.
 *
 * Results are rendered once, by the server's templates: this file fetches the results area
 * as HTML (`/search?...&fragment=1`, escaped by Jinja) and swaps it in. It builds no result
 * markup of its own; suggestions are plain text.
 */
(function () {
  "use strict";

  const DEBOUNCE_MS = 150;

  const form = document.querySelector(".searchform");
  const input = document.getElementById("q");
  if (!form || !input) return;
  document.documentElement.classList.add("js");

  /** The filter parameters (searchapp/params.py FILTER_NAMES), given by the page. */
  let FILTERS = [];
  try {
    FILTERS = JSON.parse(document.body.dataset.filters || "[]");
  } catch (error) {
    FILTERS = [];
  }

  /* The page says where the API is (url_for on the server), so the app works when it is
   * mounted under a path such as /search/. The results' URLs are the search form's action
   * and the links in the server's fragments: they carry the mount path already. */
  const API_SUGGEST = document.body.dataset.apiSuggest || "/api/suggest";
  /** The few strings this file shows itself, translated on the server. */
  let STRINGS = {};
  try {
    STRINGS = JSON.parse(document.body.dataset.strings || "{}");
  } catch (error) {
    STRINGS = {};
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

  /* ---------- clicks on results, for the site's search analytics (no cookies) ---------- */

  const clickUrl = document.documentElement.dataset.clickUrl;
  function reportClick(event) {
    const link = event.target instanceof Element && event.target.closest("#hits .hit-link");
    if (!link || !clickUrl || !navigator.sendBeacon) return;
    const params = new URLSearchParams(location.search);
    const q = (params.get("q") || "").trim();
    const found = new URL(link.href, location.href).pathname.match(/\/articles\/(.+)$/);
    if (!q || !found) return;
    const list = document.getElementById("hits");
    const rank = ((list && list.start) || 1) + hitLinks().indexOf(link);
    const page = Number(params.get("page")) || 1;
    const body = JSON.stringify({ q, article: decodeURIComponent(found[1]), rank, page });
    navigator.sendBeacon(clickUrl, new Blob([body], { type: "text/plain" }));
  }
  document.addEventListener("click", reportClick);
  document.addEventListener("auxclick", reportClick);

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

  /* ---------- results: server-rendered fragments swapped in ---------- */

  function setUpLiveSearch(area) {
    const intro = document.getElementById("intro");
    const searchPath = form.getAttribute("action") || "/search";
    const searchPathname = new URL(searchPath, location.href).pathname;
    const homeTitle = (intro && intro.dataset.title) || document.title;
    let controller = null;
    let lastKey = null;
    let sequence = 0;

    function pageUrl(params) {
      const next = new URLSearchParams();
      for (const [key, value] of params) if (value !== "" && key !== "page") next.set(key, value);
      const page = params.get("page");
      if (page && page !== "1") next.set("page", page);
      const query = next.toString();
      return searchPath + (query ? "?" + query : "");
    }

    function currentParams() {
      const params = new URLSearchParams(location.search);
      params.set("q", input.value);
      params.delete("page");
      return params;
    }

    function wantsResults(params) {
      return (params.get("q") || "").trim() || params.get("sort") || FILTERS.some((name) => params.get(name));
    }

    /** Search for what is typed, keeping the filters and sort in the URL (typing). */
    function search() {
      const params = currentParams();
      const key = params.toString();
      if (key === lastKey) return;
      lastKey = key;
      if (controller) controller.abort();
      if (!wantsResults(params)) {
        controller = null;
        sequence++;
        showIntro();
        return;
      }
      load(params, "replace");
    }

    function searchNow() {
      clearTimeout(timer);
      lastKey = null;
      search();
    }

    /** Fetch the results area for ``params`` and show it; ``how`` the URL changes. */
    async function load(params, how) {
      if (controller) controller.abort();
      controller = new AbortController();
      const mine = ++sequence;
      const results = area.querySelector(".results");
      if (results) results.setAttribute("aria-busy", "true");
      const fragment = new URLSearchParams(params);
      fragment.set("fragment", "1");
      try {
        const response = await fetch(searchPath + "?" + fragment, {
          signal: controller.signal,
          headers: { Accept: "text/html" },
        });
        const html = await response.text();
        if (mine !== sequence) return;
        if (!response.ok && !html.includes("results-state")) throw new Error(response.statusText);
        show(html, params, how);
      } catch (error) {
        if (error.name === "AbortError" || mine !== sequence) return;
        lastKey = null;
        showProblem(params, how);
      }
    }

    function show(html, params, how) {
      area.innerHTML = html; // the server's own template output, escaped by Jinja
      if (intro) intro.hidden = true;
      document.body.classList.remove("home");
      const state = document.getElementById("results-state");
      document.title = (state && state.dataset.title) || homeTitle;
      announce();
      moveTo(pageUrl(params), how);
    }

    /** A live region inserted with new content is not announced: say the count through the
     * one that stays in the page. */
    function announce() {
      const status = document.getElementById("status");
      const live = document.getElementById("live-status");
      if (!live) return;
      if (status) status.setAttribute("aria-live", "off");
      live.textContent = status ? status.textContent.trim().replace(/\s+/g, " ") : "";
    }

    function showIntro() {
      area.replaceChildren();
      announce();
      if (intro) intro.hidden = false;
      document.title = homeTitle;
      moveTo(searchPath, "replace");
    }

    function showProblem(params, how) {
      const message = STRINGS.unavailable || "Search is unavailable right now. Check your connection and try again.";
      const box = document.createElement("section");
      box.className = "state state-error";
      box.setAttribute("role", "alert");
      const text = document.createElement("p");
      text.className = "state-message";
      text.textContent = message;
      box.append(text);
      area.replaceChildren(box);
      announce();
      const live = document.getElementById("live-status");
      if (live) live.textContent = message;
      if (intro) intro.hidden = true;
      document.body.classList.remove("home");
      moveTo(pageUrl(params), how);
    }

    function moveTo(url, how) {
      if (how === "push" && url !== location.pathname + location.search) {
        history.pushState(null, "", url);
      } else if (how !== "none") {
        history.replaceState(history.state, "", url);
      }
    }

    /** Links and forms inside the results (facets, sort, dates, pages) apply in place. */
    function follow(params) {
      input.value = params.get("q") || "";
      closeSuggestions();
      const key = new URLSearchParams(params);
      key.delete("page");
      lastKey = key.toString();
      if (wantsResults(params)) load(params, "push");
      else showIntro();
    }

    area.addEventListener("click", (event) => {
      const link = event.target instanceof Element ? event.target.closest("a[href]") : null;
      if (!link || event.defaultPrevented || event.button !== 0) return;
      if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || link.target) return;
      const url = new URL(link.href, location.href);
      if (url.origin !== location.origin || url.pathname !== searchPathname) return;
      event.preventDefault();
      follow(url.searchParams);
    });

    area.addEventListener("submit", (event) => {
      const target = event.target;
      if (!(target instanceof HTMLFormElement)) return;
      event.preventDefault();
      const params = new URLSearchParams();
      for (const [key, value] of new FormData(target)) {
        if (typeof value === "string" && value !== "") params.append(key, value);
      }
      follow(params);
    });

    // A date applies as soon as it is complete.
    area.addEventListener("change", (event) => {
      const target = event.target;
      if (target instanceof HTMLInputElement && target.type === "date" && target.form) {
        if (!target.value || target.checkValidity()) target.form.requestSubmit();
      }
    });

    window.addEventListener("popstate", () => {
      const params = new URLSearchParams(location.search);
      input.value = params.get("q") || "";
      lastKey = currentParams().toString();
      if (wantsResults(params)) load(params, "none");
      else showIntro();
    });

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      closeSuggestions();
      searchNow();
    });

    // The page as the server rendered it corresponds to the URL; don't refetch it. A box
    // the browser refilled (back button) no longer matches the URL: search for its text.
    lastKey = currentParams().toString();
    window.addEventListener("pageshow", () => {
      if (input.value !== (new URLSearchParams(location.search).get("q") || "")) search();
    });
    return { search, searchNow };
  }
})();
