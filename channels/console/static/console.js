// Agent console: fills the server-rendered shells from the JSON API.
// Everything that came from a borrower is inserted with textContent, never as HTML.
(function () {
  "use strict";
  var body = document.body;
  var prefix = body.dataset.prefix || "/console";
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var POLL_MS = 2000;
  var BOOKS_POLL_MS = 15000;  // the books change when the payments feed runs, not while people type

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
        if (!response.ok) { throw new Error(data.detail || ("HTTP " + response.status)); }
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

  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  function age(seconds) {
    if (seconds < 60) { return seconds + "s"; }
    if (seconds < 3600) { return Math.floor(seconds / 60) + " min"; }
    return Math.floor(seconds / 3600) + " h " + Math.floor((seconds % 3600) / 60) + " min";
  }

  var PRIORITY = { 1: "1 urgent", 2: "2 high", 3: "3 normal", 4: "4 routine" };

  var logout = document.getElementById("logout");
  if (logout) {
    logout.addEventListener("click", function () {
      api("POST", "/logout").finally(function () { window.location.assign(prefix + "/login"); });
    });
  }

  // ---- queue -------------------------------------------------------------------------------
  function queuePage() {
    var view = "waiting";
    var rows = document.getElementById("queue-rows");
    var empty = document.getElementById("queue-empty");
    var status = document.getElementById("queue-status");
    var tabs = document.querySelectorAll(".tabs button[data-view]");

    tabs.forEach(function (tab) {
      tab.addEventListener("click", function () {
        view = tab.dataset.view;
        tabs.forEach(function (t) { t.classList.toggle("active", t === tab); });
        refresh();
      });
    });

    function claim(id) {
      api("POST", "/api/escalations/" + id + "/claim")
        .then(function () { window.location.assign(prefix + "/conversations/" + id); })
        .catch(function (error) { status.textContent = error.message; refresh(); });
    }

    function render(items) {
      clear(rows);
      empty.hidden = items.length > 0;
      items.forEach(function (item) {
        var tr = el("tr", null, "p" + item.priority);
        tr.dataset.id = item.id;
        var messages = item.summary.last_messages || [];
        [item.ref, PRIORITY[item.priority] || item.priority, item.reason.replace(/_/g, " "), age(item.age_seconds),
         item.language, item.verified ? "yes" : "no", item.loan_ref || "-",
         messages.length ? messages[messages.length - 1] : "",
         item.status + (item.claimed_by ? " (" + item.claimed_by + ")" : "")
        ].forEach(function (value) { tr.appendChild(el("td", value)); });
        var cell = el("td");
        var open = el("a", "Open");
        open.href = prefix + "/conversations/" + item.id;
        cell.appendChild(open);
        if (item.status === "waiting") {
          var button = el("button", "Claim", "claim");
          button.type = "button";
          button.addEventListener("click", function () { claim(item.id); });
          cell.appendChild(document.createTextNode(" "));
          cell.appendChild(button);
        }
        tr.appendChild(cell);
        rows.appendChild(tr);
      });
    }

    function refresh() {
      return api("GET", "/api/queue?view=" + encodeURIComponent(view))
        .then(function (data) {
          if (data.view === view) { render(data.items); }
          status.textContent = "updated " + new Date().toLocaleTimeString();
        })
        .catch(function (error) { status.textContent = "not updated: " + error.message; });
    }

    refresh();
    window.setInterval(refresh, POLL_MS);
  }

  // ---- conversation ------------------------------------------------------------------------
  function conversationPage() {
    var root = document.querySelector(".conversation");
    var id = root.dataset.escalation;
    var transcript = document.getElementById("transcript");
    var errorBox = document.getElementById("conv-error");
    var lastTranscript = "";
    var current = null;

    function show(error) { errorBox.textContent = error ? error.message || String(error) : ""; }

    function renderTranscript(entries) {
      var snapshot = JSON.stringify(entries);
      if (snapshot === lastTranscript) { return; }
      lastTranscript = snapshot;
      clear(transcript);
      entries.forEach(function (entry) {
        var li = el("li", null, entry.speaker);
        var label = entry.speaker === "agent" ? "Agent " + entry.agent_name
          : entry.speaker === "borrower" ? "Borrower" : entry.speaker === "bot" ? "Bot" : "";
        if (label) { li.appendChild(el("span", label, "who")); }
        li.appendChild(el("span", entry.text, "text"));
        if (entry.at) {
          var time = el("time", new Date(entry.at * 1000).toLocaleTimeString(), "at");
          li.appendChild(document.createTextNode(" "));
          li.appendChild(time);
        }
        transcript.appendChild(li);
      });
      transcript.scrollTop = transcript.scrollHeight;
    }

    function renderFacts(data) {
      var s = data.summary || {};
      var slots = data.slots || {};
      var facts = document.getElementById("facts");
      clear(facts);
      var verified = slots.verified !== undefined ? slots.verified : s.verified;
      [["Reason", data.reason.replace(/_/g, " ")], ["Priority", PRIORITY[data.priority] || data.priority],
       ["Language", slots.language || s.language || data.language], ["Channel", data.channel],
       ["Verified", verified ? "yes" : "no"], ["Loan", slots.verified_loan_ref || s.loan_ref],
       ["Arrears", s.arrears ? s.arrears + " " + (s.currency || "") : null],
       ["Days past due", s.days_past_due], ["Outstanding", s.outstanding_balance],
       ["Hardship", slots.hardship_cause || s.hardship_cause],
       ["Monthly income", slots.monthly_income || s.monthly_income],
       ["Monthly costs", slots.monthly_costs || s.monthly_costs],
       ["Offers made", slots.offers_made || s.offers_made],
       ["Status", data.status + (data.claimed_by ? " by " + data.claimed_by : "") + (data.outcome ? " (" + data.outcome + ")" : "")],
       ["Bot", data.paused === null ? "unknown" : data.paused ? "paused" : "answering"]
      ].forEach(function (pair) {
        if (pair[1] === undefined || pair[1] === null || pair[1] === "") { return; }
        facts.appendChild(el("dt", pair[0]));
        facts.appendChild(el("dd", pair[1]));
      });
    }

    function renderOffer(data) {
      var box = document.getElementById("offer");
      clear(box);
      var offer = (data.summary || {}).proposed_offer;
      if (!offer) { box.appendChild(el("p", "None.", "status")); return; }
      var dl = el("dl");
      Object.keys(offer).forEach(function (key) {
        dl.appendChild(el("dt", key.replace(/_/g, " ")));
        dl.appendChild(el("dd", typeof offer[key] === "object" ? JSON.stringify(offer[key]) : offer[key]));
      });
      box.appendChild(dl);
      var decision = (data.summary || {}).offer_decision;
      if (data.approved_offer) {
        box.appendChild(el("p", "Approved by " + data.approved_offer.approved_by + ": the bot presents it when you hand back.", "status"));
      } else if (decision) {
        box.appendChild(el("p", "Rejected by " + decision.by + ".", "status"));
      }
      if (data.can_act && !data.approved_offer) {
        if (data.can_approve) {
          var approve = el("button", "Approve plan", "approve");
          approve.type = "button";
          approve.addEventListener("click", function () { act("/offer", { decision: "approve" }); });
          box.appendChild(approve);
          box.appendChild(document.createTextNode(" "));
        } else {
          box.appendChild(el("p", "This plan needs " + (offer.authority || "supervisor") +
            " approval: ask a supervisor to open this conversation, or reject it.", "status needs-approval"));
        }
        var reject = el("button", "Reject plan", "reject");
        reject.type = "button";
        reject.addEventListener("click", function () {
          act("/offer", { decision: "reject", why: window.prompt("Why? (internal note)") || "" });
        });
        box.appendChild(reject);
      }
    }

    function renderNotes(notes) {
      var list = document.getElementById("notes");
      clear(list);
      notes.forEach(function (note) {
        var li = el("li");
        li.appendChild(el("strong", note.author + ": "));
        li.appendChild(el("span", note.text));
        list.appendChild(li);
      });
    }

    function render(data) {
      current = data;
      document.getElementById("conv-title").textContent = "Escalation " + data.ref;
      document.getElementById("conv-status").textContent = data.rasa_error ? "Transcript unavailable: " + data.rasa_error : "";
      renderTranscript(data.transcript || []);
      renderFacts(data);
      renderOffer(data);
      renderNotes(data.notes || []);
      document.getElementById("claim").disabled = data.status !== "waiting";
      ["hand-back", "close"].forEach(function (name) { document.getElementById(name).disabled = !data.can_act; });
      document.querySelector("#reply-form button").disabled = !data.can_act;
      document.querySelector("#note-form button").disabled = !data.can_act;
    }

    function refresh() {
      return api("GET", "/api/escalations/" + id).then(render).catch(show);
    }

    // ---- the account: where the plan stands and the open promise first, then the history ----
    var booksSummary = document.getElementById("books-summary");
    var booksHistory = document.getElementById("books-history");
    var lastBooks = "";
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
      if (item.since) { card.appendChild(el("p", "In this state since " + item.since, "minor")); }
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
      var table = el("table", null, "ledger-table " + key);
      table.setAttribute("aria-labelledby", heading.id);
      var head = el("tr");
      columns.forEach(function (column) {
        var th = el("th", column[0], column[1] || null);
        th.scope = "col";
        head.appendChild(th);
      });
      table.appendChild(el("thead")).appendChild(head);
      var tbody = table.appendChild(el("tbody"));
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
      wrap.appendChild(table);
      section.appendChild(wrap);
      return section;
    }

    function shown(count, total, noun) {
      return total > count ? noun + " (latest " + count + " of " + total + ")" : noun;
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
      return small(payment.state === "succeeded" ? "not allocated yet" : "nothing applied");
    }

    function renderBooks(data) {
      var snapshot = JSON.stringify(data);
      if (snapshot === lastBooks) { return; }
      lastBooks = snapshot;
      document.getElementById("books-title").textContent = data.loan_ref ? "Account " + data.loan_ref : "Account";
      clear(booksSummary);
      clear(booksHistory);
      root.classList.toggle("books-unavailable", !data.available);
      renderOutreach(data);
      if (!data.available) { booksSummary.appendChild(el("p", data.why, "empty")); return; }
      booksSummary.appendChild(headline("Current plan", data.summary.plan, "No plan agreed yet."));
      booksSummary.appendChild(headline("Open promise", data.summary.promise, "No open promise."));

      booksHistory.appendChild(ledger("plans", "Plans", [["Plan"], ["Agreed", "date"], ["Terms"], ["Standing"]],
        data.plans.map(function (plan) {
          return [[plan.reference, plan.concessions.length ? small(plan.concessions.join(", ")) : null],
                  plan.accepted_on,
                  [plan.terms, plan.total ? small("total " + plan.total) : null,
                   plan.next ? small("next " + plan.next) : null],
                  [badge(plan), plan.due ? small("paid " + plan.paid + " of " + plan.due + " due") : null,
                   plan.since ? small("since " + plan.since) : null]];
        }), "No plan agreed yet."));
      booksHistory.appendChild(ledger("promises", "Promises", [["Due", "date"], ["Amount", "money"], ["Paid", "money"], ["State"], ["Recorded", "date"]],
        data.promises.map(function (promise) {
          return [[promise.due_on, promise.overdue ? small("date passed") : null], promise.amount, promise.paid,
                  badge(promise), promise.recorded_on];
        }), "No promises yet."));
      booksHistory.appendChild(ledger("payments", shown(data.payments.length, data.payments_total, "Payments"),
        [["Paid on", "date"], ["Amount", "money"], ["State"], ["Applied to"]],
        data.payments.map(function (payment) {
          var origin = [payment.reference, payment.source].filter(Boolean).join(" \u00b7 ");
          return {cells: [[payment.paid_on, origin ? small(origin) : null], payment.amount, badge(payment),
                          applied(payment)],
                  note: payment.note ? "Note: " + payment.note : null};
        }), "No payments recorded."));
      booksHistory.appendChild(ledger("changes", shown(data.changes.length, data.changes_total, "State changes"),
        [["On", "date"], ["What", "ref"], ["Change"], ["Cause", "ref"]],
        data.changes.map(function (change) {
          var arrow = el("span", " \u2192 ", "arrow");
          arrow.setAttribute("aria-label", "to");
          return [change.on, change.subject,
                  change.from ? [badge(change.from), arrow, badge(change.to)] : [small("new "), badge(change.to)],
                  change.cause];
        }), "No changes of state recorded yet."));
    }

    // ---- outreach: where it stands first, then what is due and what became of the latest ----
    var outreachBox = document.getElementById("outreach");
    var outreachStatus = document.getElementById("outreach-status");
    var outreachLists = document.getElementById("outreach-lists");
    var outreachError = document.getElementById("outreach-error");
    var pauseForm = document.getElementById("outreach-pause");
    var resumeButton = document.getElementById("outreach-resume");
    var breathingButton = document.getElementById("outreach-breathing");

    function when(item) {
      // The borrower's wall clock when their zone is known, and always UTC (the schedule's clock).
      return item.local ? [item.local_time, small(item.zone), small(item.utc)]
        : [item.utc, small("borrower's zone unknown")];
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
          ? "Next contacts (soonest " + outreach.next.length + " of " + outreach.scheduled_total + ")" : "Next contacts",
        [["Due", "date"], ["Reason"], ["Channel"]],
        outreach.next.map(function (item) {
          return [when(item), [item.reason, item.retried ? small("moved after a refusal or failed send") : null],
                  item.channel];
        }), "Nothing scheduled."));
      outreachLists.appendChild(ledger("outreach-latest", "Latest contacts",
        [["When", "date"], ["Reason"], ["Outcome"]],
        outreach.latest.map(function (item) {
          return [when(item), [item.reason, small(item.channel)],
                  [badge(item), item.why ? small(item.why) : null,
                   item.moved_to ? small("now due " + (item.moved_to.local || item.moved_to.utc)) : null]];
        }), "No contact sent or refused yet."));
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
      if (!note.value.trim()) { outreachError.textContent = "Say why outreach is paused (an internal note)."; return; }
      outreachAction("pause", { note: note.value }).then(function () { note.value = ""; }, function () {});
    });
    resumeButton.addEventListener("click", function () { outreachAction("resume").catch(function () {}); });
    if (breathingButton) {
      breathingButton.addEventListener("click", function () {
        if (window.confirm("Record a breathing space? No proactive contact until it ends; it cannot be lifted here.")) {
          outreachAction("breathing-space").catch(function () {});
        }
      });
    }

    function refreshBooks() {
      return api("GET", "/api/escalations/" + id + "/books").then(renderBooks).catch(function (error) {
        if (!lastBooks) { clear(booksSummary); booksSummary.appendChild(el("p", "Account not loaded: " + error.message, "error")); }
      });
    }

    function act(path, payload) {
      show(null);
      return api("POST", "/api/escalations/" + id + path, payload).then(refresh).catch(show);
    }

    document.getElementById("claim").addEventListener("click", function () { act("/claim"); });
    document.getElementById("hand-back").addEventListener("click", function () { act("/hand-back"); });
    document.getElementById("close").addEventListener("click", function () {
      act("/close", { outcome: document.getElementById("outcome").value });
    });
    document.getElementById("reply-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var box = document.getElementById("reply-text");
      if (!box.value.trim()) { return; }
      act("/reply", { text: box.value }).then(function () { if (!errorBox.textContent) { box.value = ""; } });
    });
    document.getElementById("note-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var box = document.getElementById("note-text");
      if (!box.value.trim()) { return; }
      act("/notes", { text: box.value }).then(function () { box.value = ""; });
    });

    refresh();
    window.setInterval(refresh, POLL_MS);
    refreshBooks();
    window.setInterval(refreshBooks, BOOKS_POLL_MS);
  }

  if (body.dataset.page === "queue") { queuePage(); }
  if (body.dataset.page === "conversation") { conversationPage(); }
})();
