// Agent console: fills the server-rendered shells from the JSON API.
// Everything that came from a borrower or a colleague is inserted with textContent, never as HTML.
// Live updates come from the server-sent event stream; when it fails the page checks every 15 s.
(function () {
  "use strict";
  var I = window.ConsoleI18n;
  var t = I.t;
  var body = document.body;
  var prefix = body.dataset.prefix || "/console";
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var me = { username: body.dataset.username || "", role: body.dataset.role || "" };
  var FALLBACK_POLL_MS = 15000;  // only while the event stream is down
  var BOOKS_POLL_MS = 60000;     // the books change when the payments feed runs, not while people type
  var CLOCK_MS = 30000;          // SLA timers and waiting times are re-drawn from the last answer
  var TYPING_EVERY_MS = 3000;
  var TYPING_IDLE_MS = 4000;
  var rerenders = [];            // called after a language switch, each re-draws from its last data

  // ---- small helpers -------------------------------------------------------------------------
  function store(key, value) {
    try {
      if (value === undefined) { return window.localStorage.getItem("console." + key); }
      window.localStorage.setItem("console." + key, value);
    } catch (ignored) { /* private mode: the choice lasts for this page only */ }
    return null;
  }

  function api(method, path, payload) {
    var options = { method: method, credentials: "same-origin", headers: { "Accept": "application/json" } };
    if (method !== "GET") {
      options.headers["X-CSRF-Token"] = csrf;
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(payload || {});
    }
    return fetch(prefix + path, options).then(function (response) {
      if (response.status === 401) { window.location.assign(prefix + "/login"); throw new Error("signed out"); }
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = new Error(typeof data.detail === "string" ? data.detail : ("HTTP " + response.status));
          error.status = response.status;
          error.missing = (response.status === 404 && data.detail === "Not Found") || response.status === 405;
          throw error;
        }
        return data;
      });
    });
  }

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (className) { node.className = className; }
    return node;
  }

  function button(text, className, onClick) {
    var node = el("button", text, className);
    node.type = "button";
    if (onClick) { node.addEventListener("click", onClick); }
    return node;
  }

  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  function duration(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 60) { return t("duration_s", { n: seconds }); }
    if (seconds < 3600) { return t("duration_min", { n: Math.floor(seconds / 60) }); }
    if (seconds < 86400) { return t("duration_h", { h: Math.floor(seconds / 3600), m: Math.floor((seconds % 3600) / 60) }); }
    return t("duration_d", { d: Math.floor(seconds / 86400), h: Math.floor((seconds % 86400) / 3600) });
  }

  function toDate(value) {
    if (value === null || value === undefined || value === "") { return null; }
    var date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
    return isNaN(date.getTime()) ? null : date;
  }

  function when(value, timeOnly) {
    var date = toDate(value);
    if (!date) { return ""; }
    return timeOnly ? date.toLocaleTimeString(I.locale(), { hour: "2-digit", minute: "2-digit" })
      : date.toLocaleString(I.locale(), { dateStyle: "medium", timeStyle: "short" });
  }

  function money(value, currency) {
    if (value === null || value === undefined || value === "") { return null; }
    var amount = typeof value === "object" ? value.amount : value;
    var code = typeof value === "object" ? value.currency : currency;
    var number = Number(amount);
    if (!isFinite(number)) { return String(amount); }
    try {
      return code ? new Intl.NumberFormat(I.locale(), { style: "currency", currency: code, currencyDisplay: "code" }).format(number)
        : new Intl.NumberFormat(I.locale(), { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(number);
    } catch (unknownCurrency) {
      return new Intl.NumberFormat(I.locale(), { minimumFractionDigits: 2 }).format(number) + " " + code;
    }
  }

  function languageName(code) { return code === "zh" || code === "en" ? t("lang_" + code) : (code || ""); }
  function outcomeName(code) { return code ? t("outcome_" + code) : ""; }
  function statusText(item) {
    if (item.status === "claimed" && item.claimed_by) { return t("claimed_by", { who: item.claimed_by }); }
    var text = t("status_" + item.status);
    return item.status === "closed" && item.outcome ? text + " \u00b7 " + outcomeName(item.outcome) : text;
  }
  function escalationTitle(ref) { return t("escalation", { ref: ref }); }

  // ---- language ------------------------------------------------------------------------------
  I.language = store("language") || "en";

  function markLanguageButtons() {
    document.querySelectorAll(".lang-switch .lang").forEach(function (node) {
      node.setAttribute("aria-pressed", String(node.dataset.lang === I.language));
    });
  }

  function useLanguage(language) {
    I.language = language;
    store("language", I.language);
    I.apply(document);
    markLanguageButtons();
    rerenders.forEach(function (draw) { draw(); });
    alerts.title();
  }

  document.querySelectorAll(".lang-switch .lang").forEach(function (node) {
    node.addEventListener("click", function () {
      useLanguage(node.dataset.lang);
      if (csrf) { api("PUT", "/api/me/language", { language: node.dataset.lang }).catch(function () {}); }
    });
  });

  // ---- alerts: the tab title, an optional beep and an optional desktop notification ------------
  var alerts = (function () {
    var count = 0;
    var audio = null;
    var soundButton = document.getElementById("sound-toggle");
    var notifyButton = document.getElementById("notify-toggle");

    function soundOn() { return store("sound") === "on"; }
    function notifyOn() {
      return store("notify") === "on" && window.Notification && window.Notification.permission === "granted";
    }

    function beep() {
      var Context = window.AudioContext || window.webkitAudioContext;
      if (!soundOn() || !Context) { return; }
      audio = audio || new Context();
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.value = 0.08;
      tone.connect(gain);
      gain.connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.18);
    }

    function drawButtons() {
      if (soundButton) {
        soundButton.setAttribute("aria-pressed", String(soundOn()));
        soundButton.textContent = t(soundOn() ? "sound_on" : "sound_off");
      }
      if (notifyButton) {
        var blocked = window.Notification && window.Notification.permission === "denied";
        notifyButton.hidden = !window.Notification;
        notifyButton.setAttribute("aria-pressed", String(notifyOn()));
        notifyButton.textContent = t(blocked ? "desktop_alerts_blocked" : notifyOn() ? "desktop_alerts_on" : "desktop_alerts");
      }
    }

    if (soundButton) {
      soundButton.addEventListener("click", function () {
        store("sound", soundOn() ? "off" : "on");
        drawButtons();
        beep();  // the click is the gesture the browser wants before it plays sound
      });
    }
    if (notifyButton) {
      notifyButton.addEventListener("click", function () {
        if (notifyOn()) { store("notify", "off"); drawButtons(); return; }
        window.Notification.requestPermission().then(function (permission) {
          store("notify", permission === "granted" ? "on" : "off");
          drawButtons();
        });
      });
    }
    rerenders.push(drawButtons);
    drawButtons();

    function title() {
      if (!document.querySelector(".desk")) { return; }  // the sign-in page keeps its own title
      var root = document.querySelector(".conversation");
      var base = root ? escalationTitle(root.dataset.ref) + " \u00b7 " + t("app_title") : t("app_title");
      document.title = (count > 0 ? "(" + count + ") " : "") + base;
    }

    return {
      title: title,
      setCount: function (value) { count = value; title(); },
      notify: function (text, escalationId) {
        beep();
        if (!notifyOn()) { return; }
        try {
          var note = new window.Notification(t("app_title"), { body: text, tag: "escalation-" + escalationId });
          note.onclick = function () { window.focus(); window.location.assign(prefix + "/conversations/" + escalationId); };
        } catch (unsupported) { /* some mobile browsers only notify from a service worker: the title and sound remain */ }
      }
    };
  })();

  var logout = document.getElementById("logout");
  if (logout) {
    logout.addEventListener("click", function () {
      api("POST", "/logout").finally(function () { window.location.assign(prefix + "/login"); });
    });
  }

  // ---- live updates ----------------------------------------------------------------------------
  // One EventSource per tab; while it is down (or the server has none) a slow poll stands in.
  function live(handlers) {
    var pollTimer = null;
    var source = null;

    function polling(on) {
      if (on && !pollTimer) { pollTimer = window.setInterval(handlers.poll, FALLBACK_POLL_MS); }
      if (!on && pollTimer) { window.clearInterval(pollTimer); pollTimer = null; }
      handlers.state(!on);
    }

    function parse(event) {
      try { return JSON.parse(event.data); } catch (bad) { return null; }
    }

    function connect() {
      if (!window.EventSource) { polling(true); return; }
      source = new window.EventSource(prefix + "/api/events");
      source.addEventListener("open", function () { polling(false); handlers.poll(); });
      source.addEventListener("error", function () {
        polling(true);
        if (source.readyState === window.EventSource.CLOSED) { window.setTimeout(connect, 60000); }
      });
      source.addEventListener("queue", function (event) { var data = parse(event); if (data) { handlers.queue(data); } });
      source.addEventListener("message", function (event) { var data = parse(event); if (data) { handlers.message(data); } });
    }
    connect();
  }

  // ---- the queue pane (on every signed-in page) ----------------------------------------------------
  function queuePane(currentId) {
    var view = store("view") || "waiting";
    var rows = document.getElementById("queue-rows");
    var empty = document.getElementById("queue-empty");
    var status = document.getElementById("queue-status");
    var tabs = document.querySelectorAll(".tabs button[data-view]");
    var filters = {
      q: document.getElementById("queue-q"), language: document.getElementById("filter-language"),
      reason: document.getElementById("filter-reason"), priority: document.getElementById("filter-priority"),
      min_age_minutes: document.getElementById("filter-age"), agent: document.getElementById("filter-agent")
    };
    var lastItems = null;
    var lastUpdated = null;
    var lastError = null;
    var connected = true;
    var known = null;     // waiting escalation ids already seen (null until the first answer)
    var mineIds = {};
    var searchTimer = null;
    var inFlight = null;
    var again = false;

    if (!document.querySelector('.tabs button[data-view="' + view + '"]')) { view = "waiting"; }

    I.reasons.forEach(function (code) {
      var option = el("option", I.reason(code));
      option.value = code;
      filters.reason.appendChild(option);
    });
    rerenders.push(function () {
      Array.prototype.forEach.call(filters.reason.options, function (option) {
        if (option.value) { option.textContent = I.reason(option.value); }
      });
    });

    function drawTabs() {
      tabs.forEach(function (tab) {
        var active = tab.dataset.view === view;
        tab.classList.toggle("active", active);
        tab.setAttribute("aria-pressed", String(active));
      });
    }
    tabs.forEach(function (tab) {
      tab.addEventListener("click", function () { view = tab.dataset.view; store("view", view); drawTabs(); refresh(); });
    });
    drawTabs();

    Object.keys(filters).forEach(function (key) {
      var input = filters[key];
      input.addEventListener(key === "q" ? "input" : "change", function () {
        window.clearTimeout(searchTimer);
        searchTimer = window.setTimeout(refresh, key === "q" ? 250 : 0);
      });
    });
    document.getElementById("queue-filters").addEventListener("submit", function (event) {
      event.preventDefault();
      refresh();
    });

    api("GET", "/api/agents").then(function (data) {
      (data.agents || []).forEach(function (agent) {
        var option = el("option", agent.display_name + " (" + agent.username + ")");
        option.value = agent.username;
        filters.agent.appendChild(option);
      });
    }).catch(function () { document.getElementById("filter-agent-field").hidden = true; });

    function query(viewName, withFilters) {
      var params = ["view=" + encodeURIComponent(viewName)];
      if (withFilters) {
        Object.keys(filters).forEach(function (key) {
          var value = filters[key].value.trim();
          if (value) { params.push(key + "=" + encodeURIComponent(value)); }
        });
      }
      return "/api/queue?" + params.join("&");
    }

    function claim(id) {
      api("POST", "/api/escalations/" + id + "/claim")
        .then(function () { window.location.assign(prefix + "/conversations/" + id); })
        .catch(function (error) { status.textContent = error.message; refresh(); });
    }

    function slaBadge(sla) {
      if (!sla) { return null; }
      if (sla.met_at) { return el("span", t("sla_met"), "sla met"); }
      var remaining = sla.due_at ? (toDate(sla.due_at).getTime() - Date.now()) / 1000 : sla.remaining_seconds;
      var breached = remaining < 0;
      var node = el("span", breached ? t("sla_breached", { t: duration(-remaining) }) : t("sla_left", { t: duration(remaining) }),
        "sla " + (breached ? "breached" : remaining < 300 ? "soon" : "ok"));
      return node;
    }

    function mark(text, className) { return el("span", text, "mark " + className); }

    function row(item) {
      var tr = el("tr", null, "queue-item p" + item.priority + (String(item.id) === String(currentId) ? " current" : ""));
      tr.dataset.id = item.id;
      var href = prefix + "/conversations/" + item.id;
      var refCell = el("td", null, "ref");
      var link = el("a", item.ref);
      link.href = href;
      if (String(item.id) === String(currentId)) { link.setAttribute("aria-current", "page"); }
      refCell.appendChild(link);
      if (item.unread) { refCell.appendChild(el("span", t("unread", { n: item.unread }), "unread")); }
      tr.appendChild(refCell);

      var main = el("td", null, "main");
      var head = el("p", null, "line");
      head.appendChild(el("span", I.reason(item.reason), "reason"));
      head.appendChild(el("span", t("priority_" + item.priority), "priority"));
      main.appendChild(head);
      var who = [item.borrower_name || (item.verified ? null : t("unverified")), item.loan_ref].filter(Boolean).join(" \u00b7 ");
      if (who) { main.appendChild(el("p", who, "who-line")); }
      var last = item.last_borrower_text !== undefined ? item.last_borrower_text
        : ((item.summary || {}).last_messages || []).slice(-1)[0];
      if (last) { main.appendChild(el("p", last, "last")); }
      var marks = el("p", null, "marks");
      if (item.assistant_resumed_at) { marks.appendChild(mark(t("mark_resumed"), "resumed")); }
      if (item.callback_at) { marks.appendChild(mark(t("mark_callback") + " " + when(item.callback_at), "callback")); }
      if (item.reopened_at) { marks.appendChild(mark(t("mark_reopened"), "reopened")); }
      if (marks.firstChild) { main.appendChild(marks); }
      tr.appendChild(main);

      var meta = el("td", null, "meta");
      meta.appendChild(el("span", languageName(item.language), "lang-code"));
      meta.appendChild(el("span", t("waiting_for", { t: duration(item.age_seconds + (Date.now() - lastUpdated) / 1000) }), "age"));
      if (item.status !== "closed") {
        var sla = slaBadge(item.sla);
        if (sla) { meta.appendChild(sla); }
      }
      meta.appendChild(el("span", statusText(item), "state"));
      tr.appendChild(meta);

      var act = el("td", null, "act");
      if (item.status === "waiting") {
        var claimButton = button(t("claim"), "claim", function () { claim(item.id); });
        claimButton.setAttribute("aria-label", t("claim") + " " + item.ref);  // one of many "Claim" buttons
        act.appendChild(claimButton);
      } else {
        var open = el("a", t("open"), "open");
        open.href = href;
        open.setAttribute("aria-label", t("open") + " " + item.ref);
        act.appendChild(open);
      }
      tr.appendChild(act);
      return tr;
    }

    function draw() {
      if (lastItems === null) { return; }
      clear(rows);
      empty.hidden = lastItems.length > 0;
      lastItems.forEach(function (item) { rows.appendChild(row(item)); });
      status.textContent = (lastError ? t("queue_not_updated", { error: lastError })
        : t("queue_updated", { time: when(new Date(lastUpdated).toISOString(), true) })) +
        (connected ? "" : " \u00b7 " + t("live_lost"));
      status.classList.toggle("offline", !connected);
    }
    rerenders.push(draw);
    window.setInterval(draw, CLOCK_MS);

    // The list shown (with its filters), plus the unfiltered waiting and mine lists for the title count.
    function load() {
      var filtered = query(view, true);
      var plainWaiting = query("waiting", false);
      var plainMine = query("mine", false);
      var wanted = [filtered];
      if (filtered !== plainWaiting) { wanted.push(plainWaiting); }
      if (filtered !== plainMine) { wanted.push(plainMine); }
      return Promise.all(wanted.map(function (path) { return api("GET", path); })).then(function (answers) {
        var byPath = {};
        wanted.forEach(function (path, index) { byPath[path] = answers[index]; });
        if (filtered === query(view, true)) {
          lastItems = byPath[filtered].items;
          lastUpdated = Date.now();
          lastError = null;
          draw();
        }
        counts(byPath[plainWaiting].items, byPath[plainMine].items);
      }).catch(function (error) { lastError = error.message; status.textContent = t("queue_not_updated", { error: error.message }); });
    }

    function counts(waiting, mine) {
      var unread = 0;
      var nowMine = {};
      mine.forEach(function (item) { unread += item.unread || 0; nowMine[item.id] = true; });
      mineIds = nowMine;
      var seen = {};
      waiting.forEach(function (item) {
        seen[item.id] = true;
        if (known && !known[item.id]) { alerts.notify(t("new_escalation", { ref: item.ref }), item.id); }
      });
      known = seen;
      alerts.setCount(waiting.length + unread);
    }

    // One request at a time; an event arriving meanwhile asks for one more refresh afterwards.
    function refresh() {
      if (inFlight) { again = true; return inFlight; }
      inFlight = load().finally(function () {
        inFlight = null;
        if (again) { again = false; refresh(); }
      });
      return inFlight;
    }

    refresh();
    return {
      refresh: refresh,
      holds: function (id) { return !!mineIds[id]; },
      live: function (on) { if (on !== connected) { connected = on; draw(); } }
    };
  }

  // ---- the conversation -----------------------------------------------------------------------
  function conversationPane(queue) {
    var root = document.querySelector(".conversation");
    var id = root.dataset.escalation;
    var ref = root.dataset.ref;
    var transcript = document.getElementById("transcript");
    var errorBox = document.getElementById("conv-error");
    var replyBox = document.getElementById("reply-text");
    var entries = [];
    var lastEntryId = null;
    var current = null;
    var agents = null;
    var features = { transcriptAfter: true, typing: true, canned: true };

    function show(error) { errorBox.textContent = error ? error.message || String(error) : ""; }

    // -- transcript --
    function entryNode(entry) {
      var li = el("li", null, entry.speaker);
      var label = entry.speaker === "agent" ? t("speaker_agent", { name: entry.agent_name })
        : t("speaker_" + entry.speaker);
      var head = el("span", null, "head");
      head.appendChild(el("span", label, "who"));
      if (entry.at) { head.appendChild(el("time", when(entry.at, true), "at")); }
      li.appendChild(head);
      li.appendChild(el("span", entry.speaker === "system" ? I.system(entry.text) : entry.text, "text"));
      return li;
    }

    function drawTranscript() {
      clear(transcript);
      entries.forEach(function (entry) { transcript.appendChild(entryNode(entry)); });
      transcript.scrollTop = transcript.scrollHeight;
    }
    rerenders.push(drawTranscript);

    function appendEntries(newer) {
      var atBottom = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 40;
      newer.forEach(function (entry) {
        if (entry.id !== undefined && lastEntryId !== null && entry.id <= lastEntryId) { return; }
        entries.push(entry);
        transcript.appendChild(entryNode(entry));
        if (entry.id !== undefined) { lastEntryId = entry.id; }
      });
      if (atBottom) { transcript.scrollTop = transcript.scrollHeight; }
    }

    function setTranscript(all) {
      var snapshot = JSON.stringify(all);
      if (snapshot === JSON.stringify(entries)) { return; }
      entries = all.slice();
      lastEntryId = all.length && all[all.length - 1].id !== undefined ? all[all.length - 1].id : null;
      drawTranscript();
    }

    function loadNewer() {
      if (!features.transcriptAfter || lastEntryId === null) { return refresh(); }
      return api("GET", "/api/escalations/" + id + "/transcript?after=" + encodeURIComponent(lastEntryId))
        .then(function (data) {
          appendEntries(data.entries || []);
          if (data.borrower_typing !== undefined) { typingShown(data.borrower_typing); }
        })
        .catch(function (error) {
          if (error.missing) { features.transcriptAfter = false; return refresh(); }
          show(error);
        });
    }

    function typingShown(on) { document.getElementById("borrower-typing").hidden = !on; }

    // -- the borrower panel --
    function fact(list, label, value, className) {
      if (value === undefined || value === null || value === "") { return; }
      list.appendChild(el("dt", label));
      var dd = el("dd", null, className || null);
      (Array.isArray(value) ? value : [value]).forEach(function (part) {
        if (part === null || part === undefined || part === "") { return; }
        dd.appendChild(typeof part === "object" ? part : el("span", part));
      });
      list.appendChild(dd);
    }

    function channelName(data, context) {
      var key = context.channel_label_key || (/telegram/.test(data.channel || "") ? "telegram"
        : /socketio|web/.test(data.channel || "") ? "web" : /rest/.test(data.channel || "") ? "rest" : null);
      return key ? t("channel_" + key) : data.channel;
    }

    function renderFacts(data) {
      var s = data.summary || {};
      var slots = data.slots || {};
      var c = data.context || {};
      var facts = document.getElementById("facts");
      clear(facts);
      var verified = c.verified_at ? true : slots.verified !== undefined ? slots.verified : s.verified;
      var currency = s.currency;
      fact(facts, t("facts_name"), c.name || s.borrower_name);
      fact(facts, t("facts_reason"), I.reason(data.reason));
      fact(facts, t("facts_priority"), t("priority_" + data.priority));
      fact(facts, t("facts_status"), statusText(data));
      fact(facts, t("facts_language"), languageName(c.language || slots.language || s.language || data.language));
      fact(facts, t("facts_channel"), channelName(data, c));
      fact(facts, t("facts_verified"), c.verified_at ? when(c.verified_at) : verified ? t("yes") : t("not_verified"));
      fact(facts, t("facts_loan"), slots.verified_loan_ref || s.loan_ref);
      fact(facts, t("facts_arrears"), c.arrears ? money(c.arrears) : money(s.arrears, currency), "money");
      fact(facts, t("facts_days_past_due"), s.days_past_due);
      fact(facts, t("facts_balance"), c.balance ? money(c.balance) : money(s.outstanding_balance, currency), "money");
      var hardship = c.hardship || {};
      var cause = hardship.cause || slots.hardship_cause || s.hardship_cause;
      if (cause || hardship.said) {
        fact(facts, t("facts_hardship"), [
          cause ? el("span", I.hardship(cause)) : null,
          hardship.said ? el("q", hardship.said, "said") : null,
          hardship.temporary === true || hardship.temporary === false
            ? el("span", t("facts_hardship_temporary") + ": " + t(hardship.temporary ? "yes" : "no"), "minor") : null]);
      }
      fact(facts, t("facts_income"), c.income ? money(c.income) : money(slots.monthly_income || s.monthly_income, currency), "money");
      fact(facts, t("facts_costs"), c.costs ? money(c.costs) : money(slots.monthly_costs || s.monthly_costs, currency), "money");
      fact(facts, t("facts_surplus"), c.surplus ? money(c.surplus) : null, "money");
      if (c.risk) {
        var reasons = el("ul", null, "risk-reasons");
        (c.risk.reasons || []).forEach(function (reason) {
          reasons.appendChild(el("li", I.language === "zh" ? reason.zh : reason.en));
        });
        fact(facts, t("facts_risk"), [
          el("span", t("risk_" + c.risk.band) + " (" + Math.round(c.risk.probability * 100) + "%)", "risk risk-" + c.risk.band),
          reasons,
          el("span", t("risk_model", { v: c.risk.model_version }), "minor")]);
      }
      fact(facts, t("facts_bot"), t(data.paused === null || data.paused === undefined ? "bot_unknown"
        : data.paused ? "bot_paused" : "bot_answering"));
      if (data.satisfaction) { fact(facts, t("facts_satisfaction"), t("satisfaction_of", { n: data.satisfaction })); }
    }

    function table(className, headers, rows) {
      var wrap = el("div", null, "table-wrap");
      var node = el("table", null, "ledger-table " + className);
      var head = el("tr");
      headers.forEach(function (text) { var th = el("th", text); th.scope = "col"; head.appendChild(th); });
      node.appendChild(el("thead")).appendChild(head);
      var tbody = node.appendChild(el("tbody"));
      rows.forEach(function (cells) {
        var tr = el("tr");
        cells.forEach(function (cell) {
          var td = el("td");
          (Array.isArray(cell) ? cell : [cell]).forEach(function (part) {
            if (part === null || part === undefined || part === "") { return; }
            td.appendChild(typeof part === "object" ? part : document.createTextNode(String(part)));
          });
          tr.appendChild(td);
        });
        tbody.appendChild(tr);
      });
      wrap.appendChild(node);
      return wrap;
    }

    // "600.00 CNY" as money in the agent's language, a date as a date, concession codes in words.
    function offerValue(key, value) {
      var amount = /^(-?\d+(?:\.\d+)?) ([A-Z]{3})$/.exec(value);
      if (amount) { return money({ amount: amount[1], currency: amount[2] }); }
      if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
        return new Date(value + "T00:00:00Z").toLocaleDateString(I.locale(), { dateStyle: "medium", timeZone: "UTC" });
      }
      if (key === "concessions") { return value.split(/,\s*/).map(I.offer).join(", "); }
      return value;
    }

    function renderOffers(data) {
      var box = document.getElementById("offers");
      clear(box);
      var offers = (data.context || {}).offers;
      document.getElementById("offers-box").hidden = !data.context;
      if (!offers) { return; }
      if (!offers.length) { box.appendChild(el("p", t("offers_none"), "empty")); return; }
      // One small two-column table per offer: its terms, then the rule, policy version and authority behind it.
      offers.forEach(function (offer) {
        var wrap = el("div", null, "table-wrap");
        var node = el("table", null, "ledger-table offers");
        var caption = el("caption");
        caption.appendChild(el("strong", I.offer(offer.kind)));
        var about = [offer.status ? I.offer(offer.status) : null, offer.shown_at ? when(offer.shown_at) : null].filter(Boolean);
        if (about.length) { caption.appendChild(el("span", about.join(" \u00b7 "), "minor")); }
        node.appendChild(caption);
        var tbody = node.appendChild(el("tbody"));
        var rows = (offer.summary_rows || []).map(function (pair) { return [I.offer(pair[0]), offerValue(pair[0], String(pair[1])), null]; });
        rows.push([t("offer_rule"), offer.rule, "code"], [t("offer_policy"), offer.policy_version, null],
                  [t("offer_authority"), I.offer(offer.authority), null]);
        rows.forEach(function (row) {
          var tr = el("tr");
          var th = el("th", row[0]);
          th.scope = "row";
          tr.appendChild(th);
          tr.appendChild(el("td", row[1] || "\u2014", row[2]));
          tbody.appendChild(tr);
        });
        wrap.appendChild(node);
        box.appendChild(wrap);
      });
    }

    function renderHistory(data) {
      var box = document.getElementById("history");
      clear(box);
      var history = (data.context || {}).history;
      box.parentNode.hidden = !data.context;
      if (!history) { return; }
      if (!history.length) { box.appendChild(el("p", t("history_none"), "empty")); return; }
      box.appendChild(table("history", [t("history_ref"), t("history_reason"), t("history_outcome"), t("history_closed")],
        history.map(function (item) {
          return [[item.ref, el("span", when(item.created_at), "minor")], I.reason(item.reason),
                  item.outcome ? outcomeName(item.outcome) : "\u2014", item.closed_at ? when(item.closed_at) : "\u2014"];
        })));
    }

    function renderOffer(data) {
      var box = document.getElementById("offer");
      clear(box);
      var offer = (data.summary || {}).proposed_offer;
      if (!offer) { box.appendChild(el("p", t("plan_none"), "status")); return; }
      var dl = el("dl", null, "facts");
      Object.keys(offer).forEach(function (key) {
        var value = offer[key];
        if (value === null || value === undefined || value === "") { return; }
        dl.appendChild(el("dt", key.replace(/_/g, " ")));
        dl.appendChild(el("dd", Array.isArray(value) ? t("plan_rows", { n: value.length })
          : typeof value === "object" ? Object.keys(value).map(function (k) { return k + ": " + value[k]; }).join(", ")
          : value));
      });
      box.appendChild(dl);
      var decision = (data.summary || {}).offer_decision;
      if (data.approved_offer) {
        box.appendChild(el("p", t("plan_approved_by", { who: data.approved_offer.approved_by }), "status"));
      } else if (decision) {
        box.appendChild(el("p", t("plan_rejected_by", { who: decision.by }), "status"));
      }
      if (data.can_act && !data.approved_offer) {
        if (data.can_approve) {
          box.appendChild(button(t("plan_approve"), "approve", function () { act("/offer", { decision: "approve" }); }));
          box.appendChild(document.createTextNode(" "));
        } else {
          box.appendChild(el("p", t("plan_needs", { authority: I.offer(offer.authority || "supervisor") }), "status needs-approval"));
        }
        box.appendChild(button(t("plan_reject"), "reject", function () {
          act("/offer", { decision: "reject", why: window.prompt(t("plan_why")) || "" });
        }));
      }
    }

    // @mentions stand out; the rest of the note stays plain text.
    function renderNotes(notes) {
      var list = document.getElementById("notes");
      clear(list);
      notes.forEach(function (note) {
        var li = el("li");
        var head = el("p", null, "note-head");
        head.appendChild(el("strong", note.author));
        if (note.at) { head.appendChild(el("time", when(note.at), "minor")); }
        li.appendChild(head);
        var text = el("p", null, "note-text");
        String(note.text).split(/(@[\w.-]+)/).forEach(function (part, index) {
          if (!part) { return; }
          text.appendChild(index % 2 ? el("mark", part, "mention" + (part.slice(1) === me.username ? " me" : "")) : document.createTextNode(part));
        });
        li.appendChild(text);
        list.appendChild(li);
      });
    }

    function renderActions(data) {
      var held = data.can_act;
      document.getElementById("claim").hidden = data.status !== "waiting";
      document.getElementById("release").hidden = !held;
      document.getElementById("transfer-box").hidden = !held || !agents;
      document.getElementById("hand-back").hidden = !held;
      document.querySelector(".close-box").hidden = !held;
      document.getElementById("reopen").hidden = data.status !== "closed";
      replyBox.disabled = !held;
      document.getElementById("send").disabled = !held;
      document.getElementById("canned-button").disabled = !held;
      document.getElementById("canned-button").hidden = !features.canned;
      document.querySelector("#note-form button").disabled = !held;
      if (agents) {
        var select = document.getElementById("transfer-to");
        var chosen = select.value;
        clear(select);
        agents.filter(function (agent) { return agent.username !== data.claimed_by; }).forEach(function (agent) {
          var option = el("option", agent.display_name + " (" + t("role_" + agent.role) + ")");
          option.value = agent.username;
          select.appendChild(option);
        });
        if (chosen && select.querySelector('option[value="' + chosen + '"]')) { select.value = chosen; }
      }
    }

    function render(data) {
      current = data;
      document.getElementById("conv-title").textContent = escalationTitle(data.ref);
      var line = [];
      if (data.rasa_error) { line.push(t("transcript_unavailable", { error: data.rasa_error })); }
      document.getElementById("conv-status").textContent = line.join(" ");
      setTranscript(data.transcript || []);
      typingShown(!!data.borrower_typing);
      renderFacts(data);
      renderOffers(data);
      renderHistory(data);
      renderOffer(data);
      renderNotes(data.notes || []);
      renderActions(data);
    }
    rerenders.push(function () { if (current) { render(current); } });

    function refresh() {
      return api("GET", "/api/escalations/" + id).then(render).catch(show);
    }

    function act(path, payload) {
      show(null);
      return api("POST", "/api/escalations/" + id + path, payload)
        .then(function (answer) { queue.refresh(); return refresh().then(function () { return answer; }); })
        .catch(function (error) { show(error); throw error; });
    }
    function quietly(promise) { promise.catch(function () {}); }

    api("GET", "/api/agents").then(function (data) {
      agents = data.agents || [];
      if (current) { renderActions(current); }
    }).catch(function () { agents = null; });

    document.getElementById("claim").addEventListener("click", function () { quietly(act("/claim")); });
    document.getElementById("release").addEventListener("click", function () {
      quietly(act("/release").then(function () { document.getElementById("conv-status").textContent = t("released"); }));
    });
    document.getElementById("transfer").addEventListener("click", function () {
      var to = document.getElementById("transfer-to").value;
      if (!to) { return; }
      quietly(act("/transfer", { to: to }).then(function () {
        document.getElementById("conv-status").textContent = t("transferred", { who: to });
      }));
    });
    document.getElementById("hand-back").addEventListener("click", function () { quietly(act("/hand-back")); });
    document.getElementById("close").addEventListener("click", function () {
      quietly(act("/close", { outcome: document.getElementById("outcome").value }));
    });
    document.getElementById("reopen").addEventListener("click", function () {
      quietly(act("/reopen").then(function () { document.getElementById("conv-status").textContent = t("reopened"); }));
    });
    document.getElementById("reply-form").addEventListener("submit", function (event) {
      event.preventDefault();
      if (!replyBox.value.trim()) { show(new Error(t("error_empty"))); return; }
      var text = replyBox.value;
      typing.stop();
      quietly(act("/reply", { text: text }).then(function () {
        if (replyBox.value === text) { replyBox.value = ""; }
        return loadNewer();
      }));
    });
    document.getElementById("note-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var box = document.getElementById("note-text");
      if (!box.value.trim()) { show(new Error(t("error_empty"))); return; }
      quietly(act("/notes", { text: box.value }).then(function () { box.value = ""; }));
    });

    // -- typing state, sent only while the agent holds the conversation, at most every 3 s --
    var typing = (function () {
      var lastSent = 0;
      var idle = null;
      function send(on) {
        if (!features.typing || !current || !current.can_act) { return; }
        api("POST", "/api/escalations/" + id + "/typing", { typing: on }).catch(function (error) {
          if (error.missing) { features.typing = false; }
        });
      }
      return {
        touch: function () {
          var now = Date.now();
          if (now - lastSent > TYPING_EVERY_MS) { lastSent = now; send(true); }
          window.clearTimeout(idle);
          idle = window.setTimeout(function () { lastSent = 0; send(false); }, TYPING_IDLE_MS);
        },
        stop: function () {
          if (idle) { window.clearTimeout(idle); idle = null; lastSent = 0; send(false); }
        }
      };
    })();

    // -- canned replies: "/" + shortcut in the reply box, Ctrl+/ or the button --
    var canned = (function () {
      var menu = document.getElementById("canned-menu");
      var filter = document.getElementById("canned-filter");
      var list = document.getElementById("canned-list");
      var toggle = document.getElementById("canned-button");
      var replies = null;
      var shown = [];
      var active = 0;
      var slash = null;  // [start, end] of the "/word" typed in the reply box, replaced on insert

      function load() {
        if (replies) { return Promise.resolve(replies); }
        return api("GET", "/api/escalations/" + id + "/canned").then(function (data) {
          replies = data.replies || [];
          return replies;
        });
      }

      function draw() {
        var words = filter.value.trim().toLowerCase();
        shown = (replies || []).filter(function (reply) {
          return !words || (reply.shortcut + " " + reply.title + " " + reply.text).toLowerCase().indexOf(words) >= 0;
        });
        active = Math.min(active, Math.max(shown.length - 1, 0));
        clear(list);
        if (!shown.length) { list.appendChild(el("li", t("canned_none"), "empty")); }
        shown.forEach(function (reply, index) {
          var li = el("li", null, index === active ? "active" : null);
          li.id = "canned-option-" + index;
          li.setAttribute("role", "option");
          li.setAttribute("aria-selected", String(index === active));
          li.appendChild(el("span", "/" + reply.shortcut, "shortcut"));
          li.appendChild(el("span", reply.title, "title"));
          li.appendChild(el("span", reply.text, "preview"));
          li.addEventListener("mousedown", function (event) { event.preventDefault(); insert(reply); });
          list.appendChild(li);
        });
        if (shown.length) { filter.setAttribute("aria-activedescendant", "canned-option-" + active); }
      }

      function open(words, fromSlash) {
        slash = fromSlash || null;
        filter.value = words || "";
        menu.hidden = false;
        toggle.setAttribute("aria-expanded", "true");
        load().then(draw).catch(function (error) {
          clear(list);
          list.appendChild(el("li", t("canned_unavailable"), "empty"));
          if (error.missing) { features.canned = false; toggle.hidden = true; close(); }
        });
        if (!fromSlash) { filter.focus(); }
      }

      function close() {
        menu.hidden = true;
        toggle.setAttribute("aria-expanded", "false");
        slash = null;
      }

      function insert(reply) {
        var value = replyBox.value;
        var start = slash ? slash[0] : replyBox.selectionStart;
        var end = slash ? slash[1] : replyBox.selectionEnd;
        replyBox.value = value.slice(0, start) + reply.text + value.slice(end);
        var caret = start + reply.text.length;
        close();
        replyBox.focus();
        replyBox.setSelectionRange(caret, caret);
        typing.touch();
      }

      function move(step) {
        if (!shown.length) { return; }
        active = (active + step + shown.length) % shown.length;
        draw();
      }

      // Keys while the menu is open, from the filter box or from the reply box ("/" mode).
      function keys(event) {
        if (menu.hidden) { return false; }
        if (event.key === "ArrowDown") { move(1); } else if (event.key === "ArrowUp") { move(-1); }
        else if (event.key === "Enter" && shown.length) { insert(shown[active]); }
        else if (event.key === "Escape") { close(); replyBox.focus(); }
        else { return false; }
        event.preventDefault();
        return true;
      }

      filter.addEventListener("input", function () { active = 0; draw(); });
      filter.addEventListener("keydown", keys);
      toggle.addEventListener("click", function () { if (menu.hidden) { open("", null); } else { close(); } });
      replyBox.addEventListener("keydown", function (event) {
        if ((event.ctrlKey || event.metaKey) && event.key === "/") {
          event.preventDefault();
          if (menu.hidden) { open("", null); } else { close(); }
          return;
        }
        keys(event);
      });
      replyBox.addEventListener("input", function () {
        typing.touch();
        if (!features.canned) { return; }
        var before = replyBox.value.slice(0, replyBox.selectionStart);
        var match = /(^|\s)\/([^\s/]*)$/.exec(before);
        if (match) {
          active = 0;
          open(match[2], [replyBox.selectionStart - match[2].length - 1, replyBox.selectionStart]);
        } else if (slash) {
          close();
        }
      });
      replyBox.addEventListener("blur", function () {
        window.setTimeout(function () { if (slash && document.activeElement !== filter) { close(); } }, 150);
      });
      rerenders.push(function () { if (!menu.hidden) { draw(); } });
      return { close: close };
    })();

    // -- the account: where the plan stands and the open promise first, then the history ----
    var booksSummary = document.getElementById("books-summary");
    var booksHistory = document.getElementById("books-history");
    var lastBooks = "";
    var lastBooksData = null;
    var GLYPH = { good: "\u2713", warn: "!", bad: "\u2715", info: "\u2022", neutral: "\u2026" };

    function badge(item) {
      var span = el("span", null, "badge tone-" + (item.tone || "neutral"));
      var glyph = el("span", GLYPH[item.tone] || "", "glyph");
      glyph.setAttribute("aria-hidden", "true");  // a shape for scanning; the label says it in words
      span.appendChild(glyph);
      span.appendChild(document.createTextNode(item.label));
      return span;
    }

    function small(text) { return el("span", text, "minor"); }

    function headline(title, item, emptyText) {
      var card = el("div", null, "headline tone-" + (item ? item.tone : "none"));
      card.appendChild(el("h3", title));
      if (!item) { card.appendChild(el("p", emptyText, "empty")); return card; }
      var line = el("p", null, "headline-text");
      line.appendChild(badge(item));
      line.appendChild(el("span", item.text));
      card.appendChild(line);
      if (item.since) { card.appendChild(el("p", t("since", { when: item.since }), "minor")); }
      return card;
    }

    // columns: [[header, kind]], kind "date" and "money" keep to one line (money right-aligned).
    // rows: lists of cells, or {cells: [...], note: text} for a row with a full-width line under it.
    function ledger(key, title, columns, rows, emptyText) {
      var section = el("section", null, "ledger");
      var heading = el("h3", title);
      heading.id = "books-" + key;
      section.appendChild(heading);
      if (!rows.length) { section.appendChild(el("p", emptyText, "empty")); return section; }
      var wrap = el("div", null, "table-wrap");
      var tableNode = el("table", null, "ledger-table " + key);
      tableNode.setAttribute("aria-labelledby", heading.id);
      var head = el("tr");
      columns.forEach(function (column) {
        var th = el("th", column[0], column[1] || null);
        th.scope = "col";
        head.appendChild(th);
      });
      tableNode.appendChild(el("thead")).appendChild(head);
      var tbody = tableNode.appendChild(el("tbody"));
      rows.forEach(function (row) {
        var cells = Array.isArray(row) ? row : row.cells;
        var tr = el("tr", null, row.note ? "has-note" : null);
        cells.forEach(function (content, index) {
          var td = el("td", null, columns[index][1] || null);
          (Array.isArray(content) ? content : [content]).forEach(function (part) {
            if (part === null || part === undefined || part === "") { return; }
            td.appendChild(typeof part === "object" ? part : document.createTextNode(String(part)));
          });
          if (!td.firstChild) { td.appendChild(el("span", "\u2014", "none")); }
          tr.appendChild(td);
        });
        tbody.appendChild(tr);
        if (row.note) {
          var noteRow = el("tr", null, "row-note");
          var noteCell = el("td", row.note);
          noteCell.colSpan = columns.length;
          noteRow.appendChild(noteCell);
          tbody.appendChild(noteRow);
        }
      });
      wrap.appendChild(tableNode);
      section.appendChild(wrap);
      return section;
    }

    function shownOf(count, total, noun) {
      return total > count ? t("latest_of", { noun: noun, count: count, total: total }) : noun;
    }

    function applied(payment) {
      if (payment.applied.length) {
        var list = el("ul", null, "applied");
        payment.applied.forEach(function (share) {
          var li = el("li");
          li.appendChild(el("span", share.component, "component"));
          li.appendChild(document.createTextNode(" "));
          li.appendChild(el("span", share.amount, "amount"));
          list.appendChild(li);
        });
        return list;
      }
      return small(payment.state === "succeeded" ? t("not_allocated") : t("nothing_applied"));
    }

    function renderBooks(data) {
      var snapshot = JSON.stringify(data);
      if (snapshot === lastBooks) { return; }
      lastBooks = snapshot;
      lastBooksData = data;
      document.getElementById("books-title").textContent = data.loan_ref ? t("account_loan", { loan: data.loan_ref }) : t("account");
      clear(booksSummary);
      clear(booksHistory);
      root.classList.toggle("books-unavailable", !data.available);
      renderOutreach(data);
      if (!data.available) { booksSummary.appendChild(el("p", data.why, "empty")); return; }
      booksSummary.appendChild(headline(t("current_plan"), data.summary.plan, t("no_plan")));
      booksSummary.appendChild(headline(t("open_promise"), data.summary.promise, t("no_promise")));

      booksHistory.appendChild(ledger("plans", t("plans"), [[t("col_plan")], [t("col_agreed"), "date"], [t("col_terms")], [t("col_standing")]],
        data.plans.map(function (plan) {
          return [[plan.reference, plan.concessions.length ? small(plan.concessions.join(", ")) : null],
                  plan.accepted_on,
                  [plan.terms, plan.total ? small(t("total", { v: plan.total })) : null,
                   plan.next ? small(t("next", { v: plan.next })) : null],
                  [badge(plan), plan.due ? small(t("paid_of", { paid: plan.paid, due: plan.due })) : null,
                   plan.since ? small(t("since_short", { v: plan.since })) : null]];
        }), t("no_plan")));
      booksHistory.appendChild(ledger("promises", t("promises"),
        [[t("col_due"), "date"], [t("col_amount"), "money"], [t("col_paid"), "money"], [t("col_state")], [t("col_recorded"), "date"]],
        data.promises.map(function (promise) {
          return [[promise.due_on, promise.overdue ? small(t("date_passed")) : null], promise.amount, promise.paid,
                  badge(promise), promise.recorded_on];
        }), t("no_promises")));
      booksHistory.appendChild(ledger("payments", shownOf(data.payments.length, data.payments_total, t("payments")),
        [[t("col_paid_on"), "date"], [t("col_amount"), "money"], [t("col_state")], [t("col_applied")]],
        data.payments.map(function (payment) {
          var origin = [payment.reference, payment.source].filter(Boolean).join(" \u00b7 ");
          return {cells: [[payment.paid_on, origin ? small(origin) : null], payment.amount, badge(payment),
                          applied(payment)],
                  note: payment.note ? t("note_prefix", { v: payment.note }) : null};
        }), t("no_payments")));
      booksHistory.appendChild(ledger("changes", shownOf(data.changes.length, data.changes_total, t("changes")),
        [[t("col_on"), "date"], [t("col_what"), "ref"], [t("col_change")], [t("col_cause"), "ref"]],
        data.changes.map(function (change) {
          var arrow = el("span", " \u2192 ", "arrow");
          arrow.setAttribute("aria-label", t("to"));
          return [change.on, change.subject,
                  change.from ? [badge(change.from), arrow, badge(change.to)] : [small(t("new_state")), badge(change.to)],
                  change.cause];
        }), t("no_changes")));
    }
    rerenders.push(function () { if (lastBooksData) { lastBooks = ""; renderBooks(lastBooksData); } });

    // ---- outreach: where it stands first, then what is due and what became of the latest ----
    var outreachBox = document.getElementById("outreach");
    var outreachStatus = document.getElementById("outreach-status");
    var outreachLists = document.getElementById("outreach-lists");
    var outreachError = document.getElementById("outreach-error");
    var pauseForm = document.getElementById("outreach-pause");
    var resumeButton = document.getElementById("outreach-resume");
    var breathingButton = document.getElementById("outreach-breathing");

    function dueAt(item) {
      // The borrower's wall clock when their zone is known, and always UTC (the schedule's clock).
      return item.local ? [item.local_time, small(item.zone), small(item.utc)]
        : [item.utc, small(t("zone_unknown"))];
    }

    function renderOutreach(data) {
      var outreach = data.available ? data.outreach : null;
      outreachBox.hidden = !outreach;
      if (!outreach) { return; }
      clear(outreachStatus);
      var status = el("div", null, "headline tone-" + outreach.status.tone);
      var line = el("p", null, "headline-text");
      line.appendChild(badge(outreach.status));
      line.appendChild(el("span", outreach.status.text));
      status.appendChild(line);
      outreach.status.notes.forEach(function (note) { status.appendChild(el("p", note, "minor")); });
      outreachStatus.appendChild(status);
      pauseForm.hidden = outreach.paused_by_agent;
      resumeButton.hidden = !outreach.paused_by_agent;

      clear(outreachLists);
      outreachLists.appendChild(ledger("outreach-next",
        outreach.scheduled_total > outreach.next.length
          ? t("next_contacts_of", { count: outreach.next.length, total: outreach.scheduled_total }) : t("next_contacts"),
        [[t("col_due"), "date"], [t("col_reason")], [t("col_channel")]],
        outreach.next.map(function (item) {
          return [dueAt(item), [item.reason, item.retried ? small(t("moved_retry")) : null], item.channel];
        }), t("nothing_scheduled")));
      outreachLists.appendChild(ledger("outreach-latest", t("latest_contacts"),
        [[t("col_when"), "date"], [t("col_reason")], [t("col_outcome")]],
        outreach.latest.map(function (item) {
          return [dueAt(item), [item.reason, small(item.channel)],
                  [badge(item), item.why ? small(item.why) : null,
                   item.moved_to ? small(t("now_due", { v: item.moved_to.local || item.moved_to.utc })) : null]];
        }), t("no_contact_yet")));
    }

    function outreachAction(path, payload) {
      outreachError.textContent = "";
      return api("POST", "/api/escalations/" + id + "/outreach/" + path, payload)
        .then(function () { lastBooks = ""; return refreshBooks(); })
        .catch(function (error) { outreachError.textContent = error.message; throw error; });
    }

    pauseForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var note = document.getElementById("outreach-note");
      if (!note.value.trim()) { outreachError.textContent = t("outreach_say_why"); return; }
      outreachAction("pause", { note: note.value }).then(function () { note.value = ""; }, function () {});
    });
    resumeButton.addEventListener("click", function () { outreachAction("resume").catch(function () {}); });
    if (breathingButton) {
      breathingButton.addEventListener("click", function () {
        if (window.confirm(t("outreach_breathing_confirm"))) { outreachAction("breathing-space").catch(function () {}); }
      });
    }

    function refreshBooks() {
      return api("GET", "/api/escalations/" + id + "/books").then(renderBooks).catch(function (error) {
        if (!lastBooks) { clear(booksSummary); booksSummary.appendChild(el("p", t("account_not_loaded", { error: error.message }), "error")); }
      });
    }

    refresh();
    refreshBooks();
    window.setInterval(refreshBooks, BOOKS_POLL_MS);
    return {
      id: id,
      ref: ref,
      onQueue: function (event) { if (String(event.id) === String(id)) { refresh(); refreshBooks(); } },
      onMessage: function (event) { if (String(event.id) === String(id)) { loadNewer(); } },
      poll: refresh,
      closeMenus: canned.close
    };
  }

  // ---- supervisors: canned replies and API keys (on the queue page) --------------------------------
  function settingsPane() {
    var languageSelect = document.getElementById("canned-admin-language");
    var list = document.getElementById("canned-admin-list");
    var form = document.getElementById("canned-form");
    var field = function (name) { return document.getElementById("canned-" + name); };
    var cannedError = document.getElementById("canned-error");
    var keyList = document.getElementById("key-list");
    var keyError = document.getElementById("key-error");
    var replies = [];
    var keys = null;

    languageSelect.value = I.language;

    function drawReplies() {
      clear(list);
      if (!replies.length) { list.appendChild(el("p", t("canned_empty"), "empty")); return; }
      var tableNode = el("table", null, "ledger-table canned-admin");
      var head = el("tr");
      [t("canned_shortcut"), t("canned_title"), ""].forEach(function (text) { var th = el("th", text); th.scope = "col"; head.appendChild(th); });
      tableNode.appendChild(el("thead")).appendChild(head);
      var tbody = tableNode.appendChild(el("tbody"));
      replies.forEach(function (reply) {
        var tr = el("tr");
        tr.dataset.id = reply.id;
        tr.appendChild(el("td", "/" + reply.shortcut, "ref"));
        var titleCell = el("td");
        titleCell.appendChild(el("strong", reply.title));
        titleCell.appendChild(el("span", reply.body, "minor preview"));
        tr.appendChild(titleCell);
        var actions = el("td", null, "row");
        actions.appendChild(button(t("canned_edit"), "edit", function () { edit(reply); }));
        actions.appendChild(button(t("canned_archive"), "archive", function () {
          api("DELETE", "/api/canned/" + reply.id).then(function () { cannedError.textContent = t("canned_archived"); loadReplies(); })
            .catch(function (error) { cannedError.textContent = error.message; });
        }));
        tr.appendChild(actions);
        tbody.appendChild(tr);
      });
      list.appendChild(tableNode);
    }

    function loadReplies() {
      return api("GET", "/api/canned?language=" + encodeURIComponent(languageSelect.value)).then(function (data) {
        replies = data.replies || [];
        drawReplies();
      }).catch(function (error) {
        clear(list);
        list.appendChild(el("p", error.missing ? t("not_available") : error.message, "empty"));
        form.hidden = !!error.missing;
      });
    }

    function edit(reply) {
      field("id").value = reply ? reply.id : "";
      field("shortcut").value = reply ? reply.shortcut : "";
      field("title").value = reply ? reply.title : "";
      field("body").value = reply ? reply.body : "";
      field("save").textContent = t(reply ? "canned_update" : "canned_save");
      field("cancel").hidden = !reply;
      if (reply) { field("shortcut").focus(); }
    }

    languageSelect.addEventListener("change", loadReplies);
    field("cancel").addEventListener("click", function () { edit(null); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      cannedError.textContent = "";
      var payload = { language: languageSelect.value, shortcut: field("shortcut").value.trim(),
                      title: field("title").value.trim(), body: field("body").value };
      var editing = field("id").value;
      api(editing ? "PUT" : "POST", "/api/canned" + (editing ? "/" + editing : ""), payload).then(function () {
        edit(null);
        cannedError.textContent = t("canned_saved");
        loadReplies();
      }).catch(function (error) { cannedError.textContent = error.message; });
    });

    function drawKeys() {
      clear(keyList);
      if (keys === null) { return; }
      if (!keys.length) { keyList.appendChild(el("p", t("keys_empty"), "empty")); return; }
      var tableNode = el("table", null, "ledger-table keys");
      var head = el("tr");
      [t("key_name"), t("key_prefix"), t("key_scopes"), t("key_last_used"), ""].forEach(function (text) {
        var th = el("th", text); th.scope = "col"; head.appendChild(th);
      });
      tableNode.appendChild(el("thead")).appendChild(head);
      var tbody = tableNode.appendChild(el("tbody"));
      keys.forEach(function (key) {
        var tr = el("tr", null, key.revoked_at ? "revoked" : null);
        tr.dataset.id = key.id;
        var name = el("td");
        name.appendChild(el("strong", key.name));
        if (key.created_at) { name.appendChild(el("span", t("key_created_at") + " " + when(key.created_at) + (key.created_by ? " \u00b7 " + key.created_by : ""), "minor")); }
        tr.appendChild(name);
        tr.appendChild(el("td", key.prefix, "ref"));
        tr.appendChild(el("td", (key.scopes || []).join(", "), "ref"));
        tr.appendChild(el("td", key.last_used_at ? when(key.last_used_at) : t("never")));
        var cell = el("td");
        if (key.revoked_at) {
          cell.appendChild(el("span", t("key_revoked") + " " + when(key.revoked_at), "minor"));
        } else {
          cell.appendChild(button(t("key_revoke"), "revoke", function () {
            if (!window.confirm(t("key_revoke_confirm", { name: key.name }))) { return; }
            api("DELETE", "/api/keys/" + key.id).then(loadKeys).catch(function (error) { keyError.textContent = error.message; });
          }));
        }
        tr.appendChild(cell);
        tbody.appendChild(tr);
      });
      keyList.appendChild(tableNode);
    }

    function loadKeys() {
      return api("GET", "/api/keys").then(function (data) { keys = data.keys || []; drawKeys(); }).catch(function (error) {
        clear(keyList);
        keyList.appendChild(el("p", error.missing ? t("not_available") : error.message, "empty"));
        document.getElementById("key-form").hidden = !!error.missing;
      });
    }

    document.getElementById("key-form").addEventListener("submit", function (event) {
      event.preventDefault();
      keyError.textContent = "";
      var scopes = Array.prototype.filter.call(document.querySelectorAll('input[name="scope"]'), function (box) { return box.checked; })
        .map(function (box) { return box.value; });
      api("POST", "/api/keys", { name: document.getElementById("key-name").value.trim(), scopes: scopes }).then(function (data) {
        document.getElementById("key-value").textContent = data.key;
        document.getElementById("key-created").hidden = false;
        document.getElementById("key-name").value = "";
        loadKeys();
      }).catch(function (error) { keyError.textContent = error.message; });
    });

    rerenders.push(function () { drawReplies(); drawKeys(); field("save").textContent = t(field("id").value ? "canned_update" : "canned_save"); });
    loadReplies();
    loadKeys();
  }

  // ---- start -------------------------------------------------------------------------------------
  I.apply(document);
  markLanguageButtons();
  if (body.dataset.page === "login") {
    document.title = t("sign_in") + " \u00b7 " + t("app_title");
    rerenders.push(function () { document.title = t("sign_in") + " \u00b7 " + t("app_title"); });
  }
  var retry = document.getElementById("retry");
  if (retry) { retry.textContent = t("sign_in_retry", { n: retry.dataset.minutes }); }

  if (csrf) {
    // The agent's saved language wins over this browser's last choice.
    api("GET", "/api/me").then(function (data) {
      if (data.language && data.language !== I.language) { useLanguage(data.language); }
      me.username = data.username || me.username;
    }).catch(function () {});
  }

  var page = body.dataset.page;
  if (page === "queue" || page === "conversation") {
    var conversation = null;
    var currentId = page === "conversation" ? document.querySelector(".conversation").dataset.escalation : null;
    var queue = queuePane(currentId);
    if (page === "conversation") { conversation = conversationPane(queue); }
    if (document.getElementById("settings")) { settingsPane(); }
    alerts.title();
    live({
      queue: function (event) {
        queue.refresh();
        if (conversation) { conversation.onQueue(event); }
      },
      message: function (event) {
        queue.refresh();
        if (conversation) { conversation.onMessage(event); }
        var mine = queue.holds(event.id);
        var here = conversation && String(event.id) === String(conversation.id) && document.hasFocus();
        if (mine && !here) { alerts.notify(t("borrower_replied", { ref: "#" + event.id }), event.id); }
      },
      poll: function () {
        queue.refresh();
        if (conversation) { conversation.poll(); }
      },
      state: function (connected) { queue.live(connected); }
    });
  }
})();
