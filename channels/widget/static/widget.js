/*!
 * Debt assistant chat widget: the borrower's side of Rasa's socket.io channel.
 *
 * Embed with one script tag (config optional, see channels/widget/README.md):
 *   <script>window.DebtAssistantWidget = {serverUrl: "https://bot.example.com"};</script>
 *   <script src="/widget/widget.js" defer></script>
 *
 * No build step and no dependencies beyond the vendored socket.io client, which
 * is loaded from ./vendor/ next to this file (never from a CDN).
 *
 * Safety rule for this file: text that comes from the server or the borrower is
 * only ever inserted with textContent / createElement; links must be http(s).
 */
(function () {
  "use strict";

  if (window.__debtAssistantWidgetLoaded) return;
  window.__debtAssistantWidgetLoaded = true;

  // Only set while this file first runs: the vendored socket.io client sits next to it.
  var OWN_SRC = (document.currentScript && document.currentScript.src) || location.href;
  var STORAGE_PREFIX = "debtAssistant:v1:";
  var MAX_STORED_MESSAGES = 300;
  var MAX_TEXT_LENGTH = 4000;
  // bot/messages/limits.py: every channel refuses longer borrower messages.
  var MAX_MESSAGE_CHARS = 2000;
  var TYPING_TIMEOUT_MS = 20000;
  var OFFLINE_GRACE_MS = 1500;

  var STRINGS = {
    en: {
      title: "Repayment support",
      launcher: "Chat with us",
      unread: "new messages",
      english: "English",
      close: "Close chat",
      newConversation: "New conversation",
      confirmNew: "Start a new conversation? This clears the conversation from this device.",
      languageGroup: "Language",
      log: "Conversation",
      inputLabel: "Your message",
      placeholder: "Type your message…",
      send: "Send",
      offline: "Offline — reconnecting… Messages you send now will be delivered when the connection is back.",
      you: "You",
      assistant: "Assistant",
      agent: "agent",
      typing: "Assistant is typing…",
      agentTyping: "{name} is typing…",
      joined: "{name} joined the conversation",
      pending: "Waiting to send",
      empty: "Write a message to start, for example “hi”.",
      attachment: "Open attachment",
      opensNewTab: "(opens in a new tab)"
    },
    zh: {
      title: "还款支持",
      launcher: "在线咨询",
      unread: "条新消息",
      english: "English",
      close: "关闭对话",
      newConversation: "新对话",
      confirmNew: "开始新对话？这会清除本设备上的对话记录。",
      languageGroup: "语言",
      log: "对话记录",
      inputLabel: "您的消息",
      placeholder: "请输入消息…",
      send: "发送",
      offline: "连接已断开，正在重新连接…… 现在发送的消息会在恢复连接后送达。",
      you: "您",
      assistant: "智能助理",
      agent: "人工客服",
      typing: "智能助理正在输入…",
      agentTyping: "{name} 正在输入…",
      joined: "{name} 已加入对话",
      pending: "等待发送",
      empty: "发送一条消息开始对话，例如“你好”。",
      attachment: "打开附件",
      opensNewTab: "（在新标签页打开）"
    }
  };

  // ---------------------------------------------------------------- config

  var userConfig = window.DebtAssistantWidget && typeof window.DebtAssistantWidget === "object"
    ? window.DebtAssistantWidget : {};

  // Without a serverUrl: a page on the standard port is behind a proxy or Ingress that routes
  // /socket.io to Rasa on the same origin (deploy/k8s, docs/deploy.md); a page on its own port is
  // the development set-up (`make run`: the web app on :8000, Rasa on :5005).
  function defaultServerUrl() {
    if (!location.port) { return location.protocol + "//" + location.host; }
    return location.protocol + "//" + location.hostname + ":5005";
  }

  var config = {
    serverUrl: typeof userConfig.serverUrl === "string" && userConfig.serverUrl ? userConfig.serverUrl : defaultServerUrl(),
    socketPath: typeof userConfig.socketPath === "string" ? userConfig.socketPath : "/socket.io",
    language: ["auto", "en", "zh"].indexOf(userConfig.language) >= 0 ? userConfig.language : "auto",
    title: userConfig.title,
    primary: userConfig.colors && typeof userConfig.colors.primary === "string" ? userConfig.colors.primary : null,
    historyHours: typeof userConfig.historyHours === "number" ? userConfig.historyHours : 24
  };

  // ---------------------------------------------------------------- storage

  var memoryStore = {};
  function storeGet(key) {
    try { return window.localStorage.getItem(STORAGE_PREFIX + key); }
    catch (e) { return Object.prototype.hasOwnProperty.call(memoryStore, key) ? memoryStore[key] : null; }
  }
  function storeSet(key, value) {
    try { window.localStorage.setItem(STORAGE_PREFIX + key, value); }
    catch (e) { memoryStore[key] = value; }
  }
  function storeRemove(key) {
    try { window.localStorage.removeItem(STORAGE_PREFIX + key); } catch (e) { /* storage disabled */ }
    delete memoryStore[key];
  }

  /** Random hex for local message ids (conversation ids are issued by the server). */
  function newLocalId() {
    var bytes = new Uint8Array(8);
    window.crypto.getRandomValues(bytes);
    var hex = "";
    for (var i = 0; i < bytes.length; i++) hex += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return hex;
  }

  function loadTranscript() {
    try {
      var parsed = JSON.parse(storeGet("transcript") || "[]");
      return Array.isArray(parsed) ? parsed.filter(function (m) { return m && typeof m === "object"; }) : [];
    } catch (e) { return []; }
  }

  // The server issues the conversation and a resume token that it replaces on every use;
  // only the token is kept, so a copied id grants nothing and a copied token only until the
  // borrower's widget next reconnects. (v1 kept a client-made session id: no longer accepted.)
  storeRemove("session");
  var sessionId = null; // this page's conversation, as the server confirmed it
  var transcript = loadTranscript();
  var lastActivity = transcript.length ? transcript[transcript.length - 1].ts : 0;
  if (lastActivity && Date.now() - lastActivity > config.historyHours * 3600 * 1000) {
    transcript = [];
    storeRemove("token");
    storeRemove("transcript");
  }

  function saveTranscript() {
    storeSet("transcript", JSON.stringify(transcript.slice(-MAX_STORED_MESSAGES)));
  }

  // ---------------------------------------------------------------- language

  var HAN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u{20000}-\u{2ebef}\u{30000}-\u{3134f}]/gu;
  var LATIN_WORD = /[A-Za-z\u00c0-\u024f]+/g;
  // Loan references ("HCF-1001") are neither English nor Chinese. The lender's format is a server
  // setting (LOAN_REFERENCE_FORMAT: 2-10 letters, a separator, 4-16 digits), so any token of that
  // shape counts as one here. This only picks the widget's own language; the assistant reads the
  // language from the text again, with the exact format.
  var LOAN_REF = /(^|[^A-Za-z0-9])[A-Za-z]{2,10}[\s\-_\u2010-\u2015.#:/]{0,3}\d{4,16}(?!\d)/g;

  /** "zh" / "en" for a borrower's message, or null when it has no letters at all. */
  function detectLanguage(text) {
    var cleaned = String(text).normalize("NFKC").replace(LOAN_REF, "$1 ");
    var han = (cleaned.match(HAN) || []).length;
    var latin = (cleaned.match(LATIN_WORD) || []).length;
    if (han && han >= latin) return "zh";
    if (latin) return "en";
    return null;
  }

  function initialLanguage() {
    var stored = storeGet("language");
    if (stored === "en" || stored === "zh") return stored;
    if (config.language !== "auto") return config.language;
    var prefs = navigator.languages || [navigator.language || "en"];
    for (var i = 0; i < prefs.length; i++) {
      var primary = String(prefs[i]).toLowerCase().split(/[-_]/)[0];
      if (primary === "zh") return "zh";
      if (primary === "en") return "en";
    }
    return "en";
  }

  var language = initialLanguage();
  function t(key) { return STRINGS[language][key]; }
  function titleText() {
    var title = config.title;
    if (typeof title === "string" && title) return title;
    if (title && typeof title === "object" && typeof title[language] === "string") return title[language];
    return t("title");
  }

  // ---------------------------------------------------------------- DOM helpers

  /** createElement with attributes and children; strings become text nodes, never markup. */
  function h(tag, attrs, children) {
    var el = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        var value = attrs[name];
        if (value === null || value === undefined || value === false) return;
        if (name === "class") el.className = value;
        else if (name === "text") el.textContent = value;
        else if (name.slice(0, 2) === "on") el.addEventListener(name.slice(2), value);
        else el.setAttribute(name, value === true ? "" : String(value));
      });
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      el.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return el;
  }

  /** An absolute http(s) URL string, or null: no javascript:, data:, file: links ever. */
  function safeHttpUrl(raw) {
    if (typeof raw !== "string" || !raw) return null;
    try {
      var url = new URL(raw, location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) { return null; }
  }

  function safeLink(href, label, className) {
    var url = safeHttpUrl(href);
    if (!url) return null;
    return h("a", { href: url, target: "_blank", rel: "noopener noreferrer", class: className || null }, [
      label,
      h("span", { class: "sr-only", text: " " + t("opensNewTab") })
    ]);
  }

  var URL_IN_TEXT = /https?:\/\/[^\s<>"'“”‘’（）()]+/g;

  /** Text with any http(s) URLs turned into safe links; everything else stays literal text. */
  function linkifiedText(text) {
    var fragment = document.createDocumentFragment();
    var last = 0;
    text.replace(URL_IN_TEXT, function (match, offset) {
      var trimmed = match.replace(/[.,;:!?。，；：！？]+$/, "");
      fragment.appendChild(document.createTextNode(text.slice(last, offset)));
      fragment.appendChild(safeLink(trimmed, trimmed) || document.createTextNode(trimmed));
      last = offset + trimmed.length;
      return match;
    });
    fragment.appendChild(document.createTextNode(text.slice(last)));
    return fragment;
  }

  function formatTime(ts) {
    var date = new Date(ts);
    var locale = language === "zh" ? "zh-CN" : "en-GB";
    var sameDay = new Date().toDateString() === date.toDateString();
    var options = sameDay ? { hour: "2-digit", minute: "2-digit" }
      : { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" };
    try { return date.toLocaleString(locale, options); } catch (e) { return date.toISOString(); }
  }

  // ---------------------------------------------------------------- incoming messages

  var AGENT_TEXT_EN = /^([^\n:：()（）]{1,60}) \(agent\): ([\s\S]+)$/;
  var AGENT_TEXT_ZH = /^([^\n:：()（）]{1,60})（人工客服）：([\s\S]+)$/;
  // "<name> joined the conversation." (channels/console/rasa_api.py AGENT_JOINED): a status line, not a bubble.
  var AGENT_JOINED = /^([^\n:：()（）]{1,60}) joined the conversation\.$|^([^\n:：()（）]{1,60}) 已加入对话。$/;
  var BORROWER_TYPING_RENEW_MS = 4000;
  var PHONE = "(max-width:480px)";

  function str(value) {
    if (typeof value === "string") return value.slice(0, MAX_TEXT_LENGTH);
    if (typeof value === "number") return String(value);
    return "";
  }
  function obj(value) { return value && typeof value === "object" && !Array.isArray(value) ? value : {}; }

  /**
   * One bot_uttered event as a transcript entry: {text, quick_replies, links} (the server's
   * one payload shape, channels/widget/socketio.py) or Rasa's {attachment}.
   */
  function normaliseIncoming(raw) {
    if (typeof raw === "string") raw = { text: raw };
    raw = obj(raw);
    var message = {
      id: newLocalId(),
      from: "bot",
      ts: Date.now(),
      text: str(raw.text),
      buttons: [],
      links: []
    };
    // The agent console puts the name in the text ("Ada (agent): …"), the one form every
    // channel delivers (channels/console/rasa_api.py); show it as the agent's own bubble.
    var labelled = AGENT_TEXT_EN.exec(message.text) || AGENT_TEXT_ZH.exec(message.text);
    if (labelled) {
      message.from = "agent";
      message.agent = labelled[1].trim().slice(0, 80);
      message.text = labelled[2];
    }
    var joined = AGENT_JOINED.exec(message.text);
    if (joined) {
      message.from = "joined";
      message.agent = (joined[1] || joined[2]).trim().slice(0, 80);
    }

    var buttons = raw.quick_replies || raw.buttons;
    if (Array.isArray(buttons)) {
      buttons.forEach(function (button) {
        button = obj(button);
        var title = str(button.title), payload = str(button.payload);
        if (title && payload) message.buttons.push({ title: title, payload: payload });
      });
    }

    if (Array.isArray(raw.links)) {
      raw.links.forEach(function (link) {
        link = obj(link);
        var url = safeHttpUrl(link.url), title = str(link.title);
        if (url && title) message.links.push({ url: url, kind: "link", title: title });
      });
    }
    var attachment = raw.attachment;
    if (typeof attachment === "string") attachment = { payload: { src: attachment } };
    attachment = obj(attachment);
    var payload = obj(attachment.payload);
    var attachmentUrl = safeHttpUrl(payload.src || payload.url || payload.href || attachment.url);
    if (attachmentUrl) {
      message.links.push({ url: attachmentUrl, kind: "attachment", ref: str(payload.title || payload.name || attachment.title) });
    }
    var seen = {};
    message.links = message.links.filter(function (link) {
      if (seen[link.url]) return false;
      seen[link.url] = true;
      return true;
    });

    if (!message.text && !message.buttons.length && !message.links.length) return null;
    return message;
  }

  // ---------------------------------------------------------------- styles

  var STYLESHEET = [
    ":host{all:initial}",
    "*{box-sizing:border-box}",
    ".root{--primary:#0b5cad;--primary-text:#fff;--ink:#1b1f24;--muted:#4a5561;--line:#c9d1d9;--bot-bg:#eef1f4;--focus:#ffbf47;",
    "font-family:system-ui,-apple-system,'Segoe UI',Roboto,'PingFang SC','Hiragino Sans GB','Microsoft YaHei','Noto Sans CJK SC','Noto Sans SC',sans-serif;",
    "font-size:16px;line-height:1.45;color:var(--ink)}",
    ".sr-only{position:absolute!important;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0}",
    "button,textarea,a{font:inherit}",
    ":focus-visible{outline:3px solid var(--focus);outline-offset:2px;box-shadow:0 0 0 5px #0b0c0c}",
    "textarea:focus-visible,textarea:focus{outline:3px solid var(--focus);outline-offset:0;box-shadow:0 0 0 5px #0b0c0c}",
    ".launcher{position:fixed;right:16px;bottom:16px;z-index:2147483000;display:flex;align-items:center;gap:8px;",
    "min-height:52px;padding:12px 20px;border:0;border-radius:26px;background:var(--primary);color:var(--primary-text);",
    "font-weight:600;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}",
    ".launcher svg{width:22px;height:22px;flex:none}",
    ".launcher[hidden]{display:none}",
    ".badge{min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#b00020;color:#fff;font-size:13px;",
    "line-height:22px;text-align:center;border:2px solid #fff}",
    ".badge[hidden]{display:none}",
    ".status{align-self:center;margin:2px 0;padding:2px 10px;font-size:13.5px;color:var(--muted);text-align:center}",
    ".panel{position:fixed;right:16px;bottom:16px;z-index:2147483001;width:380px;height:min(640px,calc(100vh - 32px));",
    "display:flex;flex-direction:column;background:#fff;border:1px solid var(--line);border-radius:14px;overflow:hidden;",
    "box-shadow:0 10px 30px rgba(0,0,0,.25)}",
    ".panel[hidden]{display:none}",
    "@media (max-width:480px){.panel{inset:0;right:0;bottom:0;width:100%;height:100%;height:100dvh;border-radius:0;border:0}",
    ".launcher{right:12px;bottom:12px}}",
    ".header{display:flex;align-items:center;gap:6px;padding:10px 8px 10px 14px;background:var(--primary);color:var(--primary-text)}",
    ".header h2{flex:1;min-width:0;margin:0;font-size:17px;font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}",
    ".header button{min-width:44px;min-height:40px;padding:6px 8px;border:1px solid rgba(255,255,255,.6);border-radius:8px;",
    "background:transparent;color:var(--primary-text);cursor:pointer;font-size:14px}",
    ".header button[aria-pressed=true]{background:#fff;color:var(--primary);font-weight:700}",
    ".lang{display:flex;gap:2px}",
    ".header .close{font-size:22px;line-height:1;border-color:transparent}",
    ".toolbar{display:flex;justify-content:flex-end;padding:6px 10px;border-bottom:1px solid var(--line);background:#fafbfc}",
    ".toolbar button{min-height:36px;padding:4px 10px;border:1px solid var(--line);border-radius:8px;background:#fff;color:var(--ink);font-size:14px;cursor:pointer}",
    ".offline{margin:0;padding:8px 14px;background:#fff4ce;color:#3d2e00;border-bottom:1px solid #e0c660;font-size:14px}",
    ".offline[hidden]{display:none}",
    ".log{flex:1;overflow-y:auto;padding:14px 12px;display:flex;flex-direction:column;gap:10px;background:#fff;overscroll-behavior:contain}",
    ".empty{margin:auto 8px;color:var(--muted);text-align:center}",
    ".msg{display:flex;flex-direction:column;max-width:86%}",
    ".msg.user{align-self:flex-end;align-items:flex-end}",
    ".msg.bot,.msg.agent{align-self:flex-start;align-items:flex-start}",
    ".meta{font-size:12.5px;color:var(--muted);margin:0 4px 2px}",
    ".meta .who{font-weight:600;margin-right:6px}",
    ".bubble{padding:9px 12px;border-radius:14px;white-space:pre-wrap;overflow-wrap:anywhere;word-break:normal}",
    ".user .bubble{background:var(--primary);color:var(--primary-text);border-bottom-right-radius:4px}",
    ".user .bubble a{color:inherit}",
    ".bot .bubble{background:var(--bot-bg);color:var(--ink);border-bottom-left-radius:4px}",
    ".agent .bubble{background:#e6f4ea;color:var(--ink);border:1px solid #9ccfa8;border-bottom-left-radius:4px}",
    ".bubble a,.links a{color:#0a4a8c;text-decoration:underline}",
    ".links{display:flex;flex-direction:column;gap:4px;margin-top:6px}",
    ".links a{display:inline-block;padding:8px 12px;border:1px solid var(--line);border-radius:10px;background:#fff;font-weight:600}",
    ".buttons{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}",
    ".buttons button{min-height:44px;padding:8px 14px;border:2px solid var(--primary);border-radius:22px;background:#fff;color:var(--primary);",
    "font-weight:600;cursor:pointer}",
    ".buttons button:disabled{border-color:var(--line);color:var(--muted);cursor:default}",
    ".pending{font-size:12.5px;color:var(--muted);margin:2px 4px 0}",
    ".typing{display:flex;align-items:center;gap:4px;padding:4px 18px 8px;min-height:20px}",
    ".typing[hidden]{display:none}",
    ".typing .dot{width:8px;height:8px;border-radius:50%;background:var(--muted);animation:blink 1.2s infinite both}",
    ".typing .dot:nth-child(2){animation-delay:.2s}.typing .dot:nth-child(3){animation-delay:.4s}",
    ".typing .who-types{margin-left:6px;font-size:13px;color:var(--muted)}",
    "@keyframes blink{0%,80%,100%{opacity:.25}40%{opacity:1}}",
    "@media (prefers-reduced-motion:reduce){.typing .dot{animation:none;opacity:.7}}",
    ".composer{display:flex;gap:8px;align-items:flex-end;padding:10px;border-top:1px solid var(--line);background:#fff;",
    "padding-bottom:max(10px,env(safe-area-inset-bottom))}",
    ".composer textarea{flex:1;min-height:44px;max-height:120px;padding:10px 12px;border:1px solid #6b7682;border-radius:10px;",
    "resize:none;font-size:16px;color:var(--ink);background:#fff}",
    ".composer button{min-height:44px;padding:0 18px;border:0;border-radius:10px;background:var(--primary);color:var(--primary-text);",
    "font-weight:600;cursor:pointer}"
  ].join("\n");

  // ---------------------------------------------------------------- UI

  var icon = function () {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z");
    svg.appendChild(path);
    return svg;
  };

  var unread = 0;  // replies that arrived while the panel was closed (the launcher's badge)
  var host = h("div", { id: "debt-assistant-widget" });
  var shadow = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var ui = {};

  // The launcher's accessible name is its visible text (plus the unread count): no aria-label that differs.
  ui.launcherText = h("span");
  ui.badgeCount = h("span", { "aria-hidden": "true" });
  ui.badgeText = h("span", { class: "sr-only" });
  ui.badge = h("span", { class: "badge", hidden: true }, [ui.badgeCount, ui.badgeText]);
  ui.launcher = h("button", { type: "button", class: "launcher", "aria-haspopup": "dialog", "aria-expanded": "false",
    "aria-controls": "daw-panel", onclick: function () { openPanel(true); } }, [icon(), ui.launcherText, ui.badge]);

  ui.title = h("h2", { id: "daw-title" });
  ui.langEn = h("button", { type: "button", lang: "en", onclick: function () { setLanguage("en"); } }, ["English"]);
  ui.langZh = h("button", { type: "button", lang: "zh-Hans", onclick: function () { setLanguage("zh"); } }, ["中文"]);
  ui.langGroup = h("div", { class: "lang", role: "group" }, [ui.langEn, ui.langZh]);
  ui.close = h("button", { type: "button", class: "close", onclick: function () { closePanel(); } }, ["×"]);
  ui.newConversation = h("button", { type: "button", class: "new-conversation", onclick: function () { startNewConversation(true); } });
  ui.offline = h("p", { class: "offline", role: "status", hidden: true });
  ui.log = h("div", { class: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions", tabindex: "0" });
  ui.typingText = h("span", { class: "who-types" });
  ui.typing = h("div", { class: "typing", role: "status", hidden: true }, [
    h("span", { class: "dot", "aria-hidden": "true" }), h("span", { class: "dot", "aria-hidden": "true" }),
    h("span", { class: "dot", "aria-hidden": "true" }), ui.typingText
  ]);
  ui.inputLabel = h("label", { for: "daw-input", class: "sr-only" });
  ui.input = h("textarea", { id: "daw-input", rows: "1", enterkeyhint: "send", autocomplete: "off", maxlength: String(MAX_MESSAGE_CHARS) });
  ui.send = h("button", { type: "submit", class: "send" });
  ui.form = h("form", { class: "composer", novalidate: true }, [ui.inputLabel, ui.input, ui.send]);
  ui.panel = h("div", { id: "daw-panel", class: "panel", role: "dialog", "aria-modal": "false", hidden: true }, [
    h("div", { class: "header" }, [ui.title, ui.langGroup, ui.close]),
    h("div", { class: "toolbar" }, [ui.newConversation]),
    ui.offline,
    ui.log,
    ui.typing,
    ui.form
  ]);
  ui.root = h("div", { class: "root" }, [ui.launcher, ui.panel]);

  var style = document.createElement("style");
  style.textContent = STYLESHEET;
  shadow.appendChild(style);
  shadow.appendChild(ui.root);
  if (config.primary && window.CSS && window.CSS.supports && window.CSS.supports("color", config.primary)) {
    ui.root.style.setProperty("--primary", config.primary);
  }

  function applyLanguage() {
    ui.root.setAttribute("lang", language === "zh" ? "zh-Hans" : "en");
    ui.launcherText.textContent = t("launcher");
    setUnread(unread);
    ui.title.textContent = titleText();
    ui.panel.setAttribute("aria-label", titleText());
    ui.langGroup.setAttribute("aria-label", t("languageGroup"));
    ui.langEn.setAttribute("aria-pressed", String(language === "en"));
    ui.langZh.setAttribute("aria-pressed", String(language === "zh"));
    ui.close.setAttribute("aria-label", t("close"));
    ui.newConversation.textContent = t("newConversation");
    ui.offline.textContent = t("offline");
    ui.log.setAttribute("aria-label", t("log"));
    ui.typingText.textContent = typingAgent ? t("agentTyping").replace("{name}", typingAgent) : t("typing");
    ui.inputLabel.textContent = t("inputLabel");
    ui.input.setAttribute("placeholder", t("placeholder"));
    ui.send.textContent = t("send");
  }

  /** Switch the UI (and the metadata of later messages); remembered so a reload keeps it. */
  function setLanguage(next) {
    if (next !== "en" && next !== "zh") return;
    var changed = next !== language;
    language = next;
    storeSet("language", next);
    applyLanguage();
    if (changed) renderTranscript();
  }

  // ---------------------------------------------------------------- transcript rendering

  function renderMessage(message, isLast) {
    if (message.from === "joined") {
      return h("p", { class: "status", "data-from": "joined", "data-id": message.id,
        text: t("joined").replace("{name}", message.agent || "") });
    }
    var who = message.from === "user" ? t("you")
      : message.from === "agent" ? (message.agent || "") + " · " + t("agent") : t("assistant");
    var time = h("time", { datetime: new Date(message.ts).toISOString(), text: formatTime(message.ts) });
    var children = [
      h("div", { class: "meta" }, [h("span", { class: "who", text: who }), time]),
      h("div", { class: "bubble" }, [linkifiedText(str(message.text))])
    ];
    if (!message.text) children.pop();
    var links = (message.links || []).map(function (link) {
      var label = link.kind === "link" ? str(link.title) : t("attachment") + (link.ref ? " " + link.ref : "");
      return safeLink(link.url, label);
    }).filter(Boolean);
    if (links.length) children.push(h("div", { class: "links" }, links));
    if (message.buttons && message.buttons.length) {
      children.push(h("div", { class: "buttons", role: "group" }, message.buttons.map(function (button) {
        return h("button", { type: "button", disabled: !isLast, onclick: function () {
          sendToAssistant(button.payload, button.title);
        } }, [button.title]);
      })));
    }
    if (message.status === "pending") children.push(h("p", { class: "pending", text: t("pending") }));
    return h("div", { class: "msg " + (message.from === "user" ? "user" : message.from === "agent" ? "agent" : "bot"),
      "data-from": message.from, "data-id": message.id }, children);
  }

  function renderTranscript() {
    while (ui.log.firstChild) ui.log.removeChild(ui.log.firstChild);
    if (!transcript.length) ui.log.appendChild(h("p", { class: "empty", text: t("empty") }));
    transcript.forEach(function (message, index) {
      ui.log.appendChild(renderMessage(message, index === transcript.length - 1));
    });
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function addMessage(message) {
    var previousLast = transcript[transcript.length - 1];
    transcript.push(message);
    saveTranscript();
    var empty = ui.log.querySelector(".empty");
    if (empty) ui.log.removeChild(empty);
    if (previousLast && previousLast.buttons && previousLast.buttons.length) {
      var old = ui.log.querySelector('[data-id="' + previousLast.id + '"]');
      if (old) old.replaceWith(renderMessage(previousLast, false));
    }
    ui.log.appendChild(renderMessage(message, true));
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function rerenderMessage(message) {
    var node = ui.log.querySelector('[data-id="' + message.id + '"]');
    if (node) node.replaceWith(renderMessage(message, message === transcript[transcript.length - 1]));
  }

  // ---------------------------------------------------------------- panel

  function isOpen() { return !ui.panel.hidden; }

  function setUnread(count) {
    unread = count;
    ui.badge.hidden = count === 0;
    ui.badgeCount.textContent = count > 99 ? "99+" : String(count);
    ui.badgeText.textContent = count ? " " + ui.badgeCount.textContent + " " + t("unread") : "";
  }

  function phoneLayout() { return !!(window.matchMedia && window.matchMedia(PHONE).matches); }

  /** The panel's controls that take focus, in order (the focus trap's cycle). */
  function focusables() {
    return Array.prototype.filter.call(
      ui.panel.querySelectorAll("button, textarea, a[href], [tabindex]:not([tabindex='-1'])"),
      function (el) { return !el.disabled && !el.hidden && el.getClientRects().length > 0; });
  }

  function openPanel(moveFocus) {
    setUnread(0);
    ui.panel.setAttribute("aria-modal", String(phoneLayout()));
    ui.panel.hidden = false;
    ui.launcher.hidden = true;
    ui.launcher.setAttribute("aria-expanded", "true");
    storeSet("open", "1");
    ui.log.scrollTop = ui.log.scrollHeight;
    if (moveFocus) ui.input.focus();
  }

  function closePanel() {
    ui.panel.hidden = true;
    ui.launcher.hidden = false;
    ui.launcher.setAttribute("aria-expanded", "false");
    storeRemove("open");
    ui.launcher.focus();
  }

  ui.panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { event.preventDefault(); closePanel(); return; }
    // Full screen on a phone: Tab cycles inside the panel (nothing else is visible to go to).
    if (event.key !== "Tab" || !phoneLayout()) return;
    var items = focusables();
    if (!items.length) return;
    var active = shadow.activeElement || document.activeElement;
    var first = items[0], last = items[items.length - 1];
    if (event.shiftKey && (active === first || items.indexOf(active) < 0)) { event.preventDefault(); last.focus(); }
    else if (!event.shiftKey && (active === last || items.indexOf(active) < 0)) { event.preventDefault(); first.focus(); }
  });

  ui.input.addEventListener("keydown", function (event) {
    // Enter sends; Shift+Enter is a new line; Enter while an IME (pinyin) is composing picks a candidate.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      submitInput();
    }
  });
  var typingSentAt = 0;
  function tellTyping(typing) {
    if (!socket || !sessionReady || !socket.connected) return;
    var now = Date.now();
    if (typing && now - typingSentAt < BORROWER_TYPING_RENEW_MS) return;
    typingSentAt = typing ? now : 0;
    socket.emit("user_typing", { typing: typing });
  }
  ui.input.addEventListener("input", function () {
    tellTyping(ui.input.value.trim().length > 0);
    ui.input.style.height = "auto";
    ui.input.style.height = Math.min(ui.input.scrollHeight + 2, 120) + "px";
  });
  ui.form.addEventListener("submit", function (event) { event.preventDefault(); submitInput(); });

  function submitInput() {
    var text = ui.input.value.trim();
    if (!text) return;
    ui.input.value = "";
    ui.input.style.height = "";
    if (config.language === "auto") setLanguage(detectLanguage(text) || language);
    sendToAssistant(text, text);
    ui.input.focus();
  }

  // ---------------------------------------------------------------- connection

  var socket = null;
  var socketEpoch = null;  // a fresh id per connected socket: what was sent on an earlier one is sent again
  var sessionReady = false;
  var offlineTimer = null;
  var typingTimer = null;
  var typingAgent = null;  // the agent's name while an agent types; null: the assistant's dots
  var paused = false;      // the assistant is paused for a person: no dots unless the agent types

  function showOffline(show) {
    clearTimeout(offlineTimer);
    if (!show) { ui.offline.hidden = true; return; }
    offlineTimer = setTimeout(function () { ui.offline.hidden = false; }, OFFLINE_GRACE_MS);
  }

  function showTyping(show, agentName) {
    clearTimeout(typingTimer);
    typingAgent = show && agentName ? agentName : null;
    ui.typingText.textContent = typingAgent ? t("agentTyping").replace("{name}", typingAgent) : t("typing");
    ui.typing.hidden = !show;
    if (show) typingTimer = setTimeout(function () { ui.typing.hidden = true; }, TYPING_TIMEOUT_MS);
  }

  /** Queue a borrower message; it goes out as soon as the session is confirmed on a live socket. */
  function sendToAssistant(payload, displayText) {
    addMessage({ id: newLocalId(), from: "user", ts: Date.now(), text: str(displayText),
      payload: str(payload), language: language, status: "pending", buttons: [], links: [] });
    flushPending();
  }

  /**
   * Send what is pending, and what an earlier socket sent but never saw acknowledged (that socket was
   * lost mid-turn: the message may or may not have been handled). A message keeps its id on every send,
   * and the server handles an id once (channels/widget/socketio.py), so sending again never doubles a turn.
   */
  function flushPending() {
    if (!socket || !sessionReady || !socket.connected) return;
    transcript.forEach(function (message) {
      var resend = message.unacked === true && message.sentOn !== socketEpoch;
      if (message.status !== "pending" && !resend) return;
      // No session id: the server speaks for the conversation this socket was given.
      socket.emit("user_uttered", {
        message: message.payload || message.text,
        message_id: message.id,
        metadata: { language: message.language || language }
      }, function () {
        // Acknowledged after the assistant's turn: handled (or refused with an answer): never again.
        delete message.unacked;
        delete message.sentOn;
        delete message.payload;
        saveTranscript();
      });
      message.status = "sent";
      message.unacked = true;
      message.sentOn = socketEpoch;
      if (!resend) rerenderMessage(message);
      typingSentAt = 0;
      if (!paused) showTyping(true);
    });
    saveTranscript();
  }

  function onBotUttered(raw) {
    // `stamp`: the message's time in the conversation's record. The newest one shown is sent back
    // on resuming, and the server replays what came after it (a reminder sent while the page was closed).
    var stamp = raw && typeof raw.stamp === "number" ? raw.stamp : null;
    var seen = Number(storeGet("seen") || 0);
    if (stamp !== null && stamp < seen) return;  // shown already (the parts of one message share a stamp)
    if (stamp !== null) storeSet("seen", String(stamp));
    var message = normaliseIncoming(raw);
    if (!message) return;
    showTyping(false);
    if (message.from === "agent" || message.from === "joined") paused = true;
    else if (message.from === "bot") paused = false;  // the assistant speaks: a later state event says otherwise
    addMessage(message);
    if (!isOpen()) setUnread(unread + 1);
  }

  function connect() {
    socket = window.io(config.serverUrl, {
      path: config.socketPath,
      // WebSocket only: Rasa's socket.io channel turns CORS handling off, so long-polling
      // from the lender's origin would be blocked; WebSocket is not subject to CORS.
      transports: ["websocket"],
      reconnection: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 4000,
      randomizationFactor: 0.3,
      timeout: 10000
    });
    socket.on("connect", function () {
      // A fresh socket id after every (re)connect: Rasa must put it in the session's room again.
      sessionReady = false;
      socketEpoch = newLocalId();
      // Read at the moment of asking: another tab of the site may have rotated it since.
      var token = storeGet("token");
      var seen = Number(storeGet("seen") || 0);
      socket.emit("session_request", token ? (seen ? { resume_token: token, last_seen: seen } : { resume_token: token }) : {});
    });
    socket.on("session_confirm", function (confirmed) {
      confirmed = obj(confirmed);
      if (typeof confirmed.session_id !== "string" || typeof confirmed.resume_token !== "string") return;
      if (!confirmed.resumed && transcript.some(function (m) { return m.status !== "pending"; })) {
        // The old conversation cannot be resumed (token expired or used elsewhere): the server
        // started a new one, so the transcript shown must not pretend otherwise.
        transcript = transcript.filter(function (m) { return m.status === "pending"; });
        saveTranscript();
        renderTranscript();
      }
      if (!confirmed.resumed) storeRemove("seen");  // a new conversation: nothing of it seen yet
      sessionId = confirmed.session_id;
      storeSet("token", confirmed.resume_token);
      sessionReady = true;
      showOffline(false);
      flushPending();
    });
    socket.on("bot_uttered", onBotUttered);
    socket.on("conversation_state", function (state) {
      paused = !!obj(state).paused;
      if (paused && !typingAgent) showTyping(false);
    });
    socket.on("agent_typing", function (event) {
      event = obj(event);
      if (event.typing === true) showTyping(true, str(event.name).slice(0, 80) || t("agent"));
      else if (typingAgent) showTyping(false);
    });
    socket.on("disconnect", function (reason) {
      sessionReady = false;
      showTyping(false);
      if (reason === "io client disconnect") return;
      showOffline(true);
      // The server closed the socket on purpose: socket.io will not retry by itself then.
      if (reason === "io server disconnect") setTimeout(function () { socket.connect(); }, 1000);
    });
    socket.on("connect_error", function () { showOffline(true); });
  }

  function startNewConversation(ask) {
    if (ask && !window.confirm(t("confirmNew"))) return;
    sessionId = null;
    transcript = [];
    storeRemove("token");
    storeRemove("transcript");
    renderTranscript();
    showTyping(false);
    // Rasa never takes a socket out of a session's room: reconnect so the new socket
    // only hears the new conversation (an agent writing to the old one stays there).
    if (socket) {
      socket.disconnect();
      sessionReady = false;
      socket.connect();
    }
    ui.input.focus();
  }

  function loadSocketIo(callback) {
    if (window.io && typeof window.io === "function" && window.io.protocol === 5) { callback(); return; }
    var script = document.createElement("script");
    script.src = new URL("vendor/socket.io.min.js", OWN_SRC).href;
    script.async = true;
    script.onload = callback;
    script.onerror = function () { showOffline(true); };
    document.head.appendChild(script);
  }

  // ---------------------------------------------------------------- start

  function start() {
    document.body.appendChild(host);
    applyLanguage();
    renderTranscript();
    if (storeGet("open") === "1") openPanel(false);
    loadSocketIo(connect);

    var api = {
      open: function () { openPanel(true); },
      close: closePanel,
      newConversation: function () { startNewConversation(false); },
      sessionId: function () { return sessionId; },
      isConnected: function () { return !!(socket && socket.connected && sessionReady); }
    };
    Object.keys(api).forEach(function (name) { userConfig[name] = api[name]; });
    window.DebtAssistantWidget = userConfig;
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
