/* searchapp embed: one <script src="https://server/embed.js" data-...> gives any page a
 * search box with live results from that server's JSON API (CORS; no iframe).
 *
 * data-target       CSS selector of the element to render into (default: after the script)
 * data-per-page     results to show, 1-20 (default 5)
 * data-kind         only this kind of passage (paragraph, caption, heading, ...)
 * data-lang         only en or zh passages
 * data-sort         relevance (default), newest or oldest
 * data-group        article (default: one result per article, its best passages under it)
 *                   or none (one result per passage; the default with data-kind="caption")
 * data-hl           interface language, en or zh (default: the page's <html lang> if it is
 *                   one of them, else the server's configured language)
 * data-placeholder  placeholder of the search box
 * data-server       the searchapp server, http(s) only, with its path if it is mounted under
 *                   one (default: where this script came from, without "/embed.js")
 * data-theme        light (default), dark or auto (follows the reader's colour scheme)
 *
 * Styles live in one <style> element, every rule under .searchapp-embed; the colours are
 * custom properties whose defaults have no specificity (:where), so the host page's own
 * `.searchapp-embed { --searchapp-accent: ... }` wins wherever its stylesheet is. The server
 * inlines its name, language and the strings of every interface language below. Only the
 * API's `snippet` field is parsed as HTML, and only its text and <mark> elements are kept.
 *
 * Deliberately standalone (a duplicate kept on purpose): it runs on other sites, with no
 * server templates and no app.js, so it repeats a little of the server's knowledge: the
 * links to articles (searchapp/web/urls.py), the default grouping (params.default_group) and
 * its own rendering of results. What can change per server (strings, link setting, the
 * chunks per article page) is inlined by the server when it sends this file.
 */
(function () {
  "use strict";

  var CSS = /*@embed-css*/"";
  var SITE = /*@embed-site*/{};
  // "source": a result links to its article's original page when it has one; "local": to
  // the article page on this server. Set by the server when it sends this script.
  var LINKS = /*@links*/"source";
  var STYLE_ID = "searchapp-embed-style";
  var DEBOUNCE_MS = 150;

  var script = document.currentScript;
  if (!script) return; // loaded as a module or injected oddly: nothing to configure from
  var data = script.dataset;
  var server = serverBase(data.server);
  var strings = SITE.strings || {};
  var hl = pickLanguage();
  var T = strings[hl] || strings.en || {};
  var KINDS = T.kinds || {};
  var LANGS = T.langs || {};
  var perPage = Math.min(20, Math.max(1, parseInt(data.perPage, 10) || 5));
  var counter = (window.__searchappEmbeds = (window.__searchappEmbeds || 0) + 1);

  /** The server's base URL: data-server if it is an http(s) URL, else where this script
   * came from, path included (example.org/search/embed.js: example.org/search); a
   * javascript: or data: "server" would run in the page when a link is used. */
  function serverBase(value) {
    var src = new URL(script.src, location.href);
    var own = (src.origin + src.pathname.replace(/\/embed\.js$/, "")).replace(/\/+$/, "");
    if (!value) return own;
    var url;
    try {
      url = new URL(value, location.href);
    } catch (e) {
      url = null;
    }
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
      if (window.console) console.warn("searchapp embed: data-server must be an http(s) URL");
      return own;
    }
    return (url.origin + url.pathname).replace(/\/+$/, "");
  }

  function pickLanguage() {
    var wanted = [data.hl, document.documentElement.lang, SITE.language, "en"];
    for (var i = 0; i < wanted.length; i++) {
      var code = String(wanted[i] || "").toLowerCase().split("-")[0];
      if (strings[code]) return code;
    }
    return "en";
  }

  /** A translated string with its {name} placeholders filled in (text only). */
  function t(key, values) {
    return String(T[key] || key).replace(/\{([a-z]+)\}/g, function (whole, name) {
      return values && name in values ? String(values[name]) : whole;
    });
  }

  function formatDay(iso) {
    var match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(iso || ""));
    if (!match || !window.Intl) return String(iso || "");
    var day = new Date(Date.UTC(+match[1], +match[2] - 1, +match[3]));
    return new Intl.DateTimeFormat(hl === "zh" ? "zh-CN" : "en", {
      dateStyle: "long", timeZone: "UTC",
    }).format(day);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function icon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", "searchapp-embed__icon");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var circle = document.createElementNS(ns, "circle");
    circle.setAttribute("cx", "10.5");
    circle.setAttribute("cy", "10.5");
    circle.setAttribute("r", "6.5");
    var handle = document.createElementNS(ns, "path");
    handle.setAttribute("d", "m15.5 15.5 5 5");
    svg.appendChild(circle);
    svg.appendChild(handle);
    return svg;
  }

  /** The snippet as nodes: text and <mark> only, whatever the string holds. */
  function snippetNodes(html) {
    var template = document.createElement("template");
    template.innerHTML = String(html || ""); // the API's snippet: escaped text + <mark>
    var out = document.createDocumentFragment();
    (function copy(from, to) {
      for (var i = 0; i < from.childNodes.length; i++) {
        var node = from.childNodes[i];
        if (node.nodeType === 3) {
          to.appendChild(document.createTextNode(node.data));
        } else if (node.nodeName === "MARK") {
          var mark = document.createElement("mark");
          copy(node, mark);
          to.appendChild(mark);
        } else {
          to.appendChild(document.createTextNode(node.textContent || ""));
        }
      }
    })(template.content, out);
    return out;
  }

  function addStyles() {
    if (document.getElementById(STYLE_ID)) return;
    var style = document.createElement("style");
    style.id = STYLE_ID;
    style.textContent = CSS;
    (document.head || document.documentElement).appendChild(style);
  }

  /** The archive's page of an article, at one passage (a long article is shown
   * SITE.article_page_chunks chunks a page, article_pages.ARTICLE_PAGE_CHUNKS on the server),
   * or its original page when the server links there (``source_url`` given) and it has one.
   * A deliberate copy of searchapp/web/urls.py (article_url, hit_url): this script runs on
   * other sites, without the server's templates, so it builds its links itself. */
  function articleUrl(articleId, q, position, sourceUrl) {
    if (LINKS === "source" && /^https?:\/\//i.test(sourceUrl || "")) return sourceUrl;
    var path = String(articleId).split("/").map(encodeURIComponent).join("/");
    var hasAnchor = position !== undefined && position !== null;
    var page = hasAnchor ? Math.floor(position / (SITE.article_page_chunks || 200)) + 1 : 1;
    return server + "/articles/" + path + "?q=" + encodeURIComponent(q) +
      (page > 1 ? "&page=" + page : "") + (data.hl ? "&hl=" + encodeURIComponent(hl) : "") +
      (hasAnchor ? "#chunk-" + position : "");
  }

  /** A photo caption's photographer and date, in the reader's language ("" for others). */
  function photoText(hit) {
    if (hit.kind !== "caption") return "";
    if (hit.photographer && hit.photo_date) {
      return t("photo_by_taken", { name: hit.photographer, date: formatDay(hit.photo_date) });
    }
    if (hit.photographer) return t("photo_by", { name: hit.photographer });
    if (hit.photo_date) return t("photo_taken", { date: formatDay(hit.photo_date) });
    return "";
  }

  function build(container) {
    addStyles();
    var theme = data.theme === "dark" || data.theme === "auto" ? data.theme : "light";
    var root = el("div", "searchapp-embed searchapp-embed--" + theme);
    root.setAttribute("role", "search");
    root.lang = hl === "zh" ? "zh-CN" : "en";
    var form = el("form", "searchapp-embed__form");
    form.setAttribute("action", server + "/search");
    form.setAttribute("method", "get");
    var inputId = "searchapp-embed-q-" + counter;
    var label = el("label", "searchapp-embed__label", t("search_label"));
    label.setAttribute("for", inputId);
    var input = el("input", "searchapp-embed__input");
    input.id = inputId;
    input.type = "search";
    input.name = "q";
    input.autocomplete = "off";
    input.placeholder = data.placeholder || t("placeholder");
    form.appendChild(label);
    form.appendChild(icon());
    form.appendChild(input);
    var status = el("p", "searchapp-embed__status");
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    var hits = el("ol", "searchapp-embed__hits");
    var footer = el("p", "searchapp-embed__footer");
    var more = el("a", "searchapp-embed__more");
    more.hidden = true;
    var brand = el("span", null, t("search_by") + " ");
    var home = el("a", "searchapp-embed__site");
    if (SITE.logo) {
      var logo = el("img", "searchapp-embed__logo");
      logo.src = server + "/site-logo";
      logo.alt = "";
      logo.width = logo.height = 16;
      home.appendChild(logo);
    }
    home.appendChild(document.createTextNode(SITE.name || "searchapp"));
    home.href = server + "/" + (data.hl ? "?hl=" + encodeURIComponent(hl) : "");
    brand.appendChild(home);
    footer.appendChild(more);
    footer.appendChild(brand);
    root.appendChild(form);
    root.appendChild(status);
    root.appendChild(hits);
    root.appendChild(footer);
    container.appendChild(root);

    var timer = 0;
    var controller = null;
    var composing = false;
    var last = "";

    var group = data.group === "none" || (data.kind === "caption" && data.group !== "article")
      ? "none" : "article";
    var sort = /^(relevance|newest|oldest)$/.test(data.sort || "") ? data.sort : null;

    function params(q) {
      var p = new URLSearchParams({ q: q });
      if (data.kind) p.set("kind", data.kind);
      if (data.lang) p.set("lang", data.lang);
      if (sort) p.set("sort", sort);
      return p;
    }

    /** One article: its headline links to its best passage; the passages are listed under it. */
    function renderArticle(article, shown) {
      var li = el("li", "searchapp-embed__hit");
      var passages = article.passages || [];
      var title = el("h3", "searchapp-embed__title");
      var link = el("a", "searchapp-embed__link");
      link.appendChild(snippetNodes(article.title_snippet || article.title || article.article_id));
      link.href = articleUrl(
        article.article_id, shown, passages.length ? passages[0].position : null, article.source_url);
      title.appendChild(link);
      if (article.lang) title.lang = article.lang;
      li.appendChild(title);
      var bits = [];
      if (article.date) bits.push(formatDay(article.date));
      if (article.authors && article.authors.length) bits.push(article.authors.join(", "));
      if (article.lang) bits.push(LANGS[article.lang] || article.lang);
      li.appendChild(el("p", "searchapp-embed__meta", bits.join(" · ")));
      if (!passages.length) return li;
      var list = el("ul", "searchapp-embed__passages");
      passages.forEach(function (passage) {
        var item = el("li", "searchapp-embed__passage");
        if (passage.lang) item.lang = passage.lang;
        var where = KINDS[passage.kind] || passage.section;
        if (passage.kind === "paragraph") where = passage.section;
        if (where) item.appendChild(el("span", "searchapp-embed__kind", where));
        var snippet = el("span", "searchapp-embed__snippet");
        snippet.appendChild(snippetNodes(passage.snippet));
        item.appendChild(snippet);
        var photo = photoText(passage);
        if (photo) item.appendChild(el("span", "searchapp-embed__passage-meta", photo));
        list.appendChild(item);
      });
      li.appendChild(list);
      return li;
    }

    function render(result, q) {
      hits.textContent = "";
      var shown = result.showing_results_for || q;
      var unit = result.group === "article" ? "articles" : "results";
      status.textContent = result.total
        ? t(unit + (result.total === 1 ? "_for_one" : "_for_other"), {
          n: result.total, q: "“" + shown + "”",
        })
        : result.suggestion
          ? t("no_results_try", { q: q, suggestion: result.suggestion })
          : t("no_results_for", { q: q });
      result.hits.forEach(function (hit) {
        if (result.group === "article") {
          hits.appendChild(renderArticle(hit, shown));
          return;
        }
        var li = el("li", "searchapp-embed__hit");
        var context = el("p", "searchapp-embed__context");
        // a paragraph is the ordinary case: no badge
        if (hit.kind !== "paragraph" && KINDS[hit.kind]) {
          context.appendChild(el("span", "searchapp-embed__kind", KINDS[hit.kind]));
        }
        if (hit.section) context.appendChild(el("span", "searchapp-embed__section", hit.section));
        var title = el("h3", "searchapp-embed__title");
        var link = el("a", "searchapp-embed__link", hit.article_title || hit.article_id);
        link.href = articleUrl(hit.article_id, shown, hit.position, hit.source_url);
        title.appendChild(link);
        var snippet = el("p", "searchapp-embed__snippet");
        snippet.appendChild(snippetNodes(hit.snippet));
        if (hit.lang) {
          title.lang = hit.lang;
          snippet.lang = hit.lang;
        }
        var bits = [];
        var photo = photoText(hit);
        if (photo) bits.push(photo);
        if (hit.date) bits.push(formatDay(hit.date));
        if (hit.lang) bits.push(LANGS[hit.lang] || hit.lang);
        li.appendChild(context);
        li.appendChild(title);
        li.appendChild(snippet);
        li.appendChild(el("p", "searchapp-embed__meta", bits.join(" · ")));
        hits.appendChild(li);
      });
      if (result.total > result.hits.length) {
        var all = params(shown);
        if (data.hl) all.set("hl", hl);
        more.href = server + "/search?" + all;
        more.textContent = t(result.group === "article" ? "all_articles" : "all_results", {
          n: result.total,
        });
        more.hidden = false;
      } else {
        more.hidden = true;
      }
    }

    function search() {
      var q = input.value.trim();
      if (q === last) return;
      last = q;
      if (controller) controller.abort();
      if (!q) {
        hits.textContent = "";
        status.textContent = "";
        more.hidden = true;
        return;
      }
      controller = new AbortController();
      var mine = controller;
      var p = params(q);
      p.set("per_page", String(perPage));
      if (group === "article") p.set("group", "article");
      root.classList.add("searchapp-embed--busy");
      fetch(server + "/api/search?" + p, {
        signal: controller.signal,
        headers: { Accept: "application/json" },
        credentials: "omit",
      })
        .then(function (response) {
          return response.json().then(function (body) {
            if (!response.ok) throw new Error((body.error && body.error.message) || t("search_failed"));
            return body;
          });
        })
        .then(function (body) {
          if (mine === controller) render(body, q);
        })
        .catch(function (error) {
          if (error.name === "AbortError" || mine !== controller) return;
          last = "";
          hits.textContent = "";
          more.hidden = true;
          status.textContent = t("search_failed_because", { reason: error.message });
        })
        .finally(function () {
          if (mine === controller) root.classList.remove("searchapp-embed--busy");
        });
    }

    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(function () {
        if (!composing) search();
      }, DEBOUNCE_MS);
    }

    input.addEventListener("compositionstart", function () {
      composing = true;
      clearTimeout(timer);
    });
    input.addEventListener("compositionend", function () {
      composing = false;
      schedule();
    });
    input.addEventListener("input", function (event) {
      if (!composing && !event.isComposing) schedule();
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearTimeout(timer);
      last = "";
      search();
    });
  }

  function findTarget() {
    try {
      return data.target ? document.querySelector(data.target) : null;
    } catch (error) {
      return null; // not a valid selector
    }
  }

  function mount() {
    var container = findTarget();
    if (data.target) {
      if (!container && window.console) {
        console.warn("searchapp embed: no element matches data-target " + data.target);
      }
    }
    if (container) {
      build(container);
    } else {
      var holder = el("div");
      script.parentNode.insertBefore(holder, script.nextSibling);
      build(holder);
    }
  }

  if (data.target && document.readyState === "loading" && !findTarget()) {
    document.addEventListener("DOMContentLoaded", mount);
  } else {
    mount();
  }
})();
