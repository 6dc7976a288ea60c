/* The console's only script of its own: the live inbox. What happens to the library's referrals arrives as
   server-sent events (/console/live/referrals); each one asks htmx to fetch the inbox's lists again, and a new
   referral is announced to screen readers. Everything else is plain HTML forms and links. */
(function () {
  "use strict";

  function start() {
    var live = document.querySelector("[data-live]");
    if (!live || !window.EventSource || !window.htmx) {
      return;
    }
    live.hidden = false; // shown only where it can start (the page says otherwise in <noscript>)
    var label = live.querySelector("[data-live-label]");
    var announcer = document.getElementById("live-status");
    var source = new EventSource(live.getAttribute("data-live"));

    function show(state) {
      live.setAttribute("data-state", state);
      if (label) {
        label.textContent = label.getAttribute(state === "open" ? "data-open" : "data-closed");
      }
    }

    source.addEventListener("open", function () { show("open"); });
    source.addEventListener("error", function () { show("closed"); });
    source.addEventListener("referral.submitted", function (event) {
      var pseudonym = "";
      try {
        pseudonym = JSON.parse(event.data).data.participant_pseudonym || "";
      } catch (ignored) {
        pseudonym = "";
      }
      if (announcer) {
        announcer.textContent = live.getAttribute("data-live-message").replace("{pseudonym}", pseudonym);
      }
      window.htmx.trigger(document.body, "live-refresh");
    });
    // Every other step of the library's referrals changes a row: fetch the lists again, without announcing.
    [
      "referral.accepted", "referral.declined", "referral.overdue", "referral.expired", "referral.completed",
      "referral.withdrawn", "referral.intake_planned", "referral.intake_held", "referral.no_show_recorded",
      "referral.waitlisted", "referral.enrolled", "referral.notification_requested", "referral.anonymised"
    ].forEach(function (type) {
      source.addEventListener(type, function () { window.htmx.trigger(document.body, "live-refresh"); });
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
