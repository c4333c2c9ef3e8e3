// glueops dashboard: when the server says the board changed, fetch this page again and swap
// in its <main>. Without JavaScript the page refreshes itself every 5 seconds instead.
(function () {
  if (!window.EventSource) return;
  var events = new EventSource("/events");
  events.addEventListener("board", function (e) {
    var main = document.getElementById("board");
    if (main && main.getAttribute("data-version") === e.data) return;
    fetch(window.location.href, { headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("board");
        if (fresh && main) main.replaceWith(fresh);
      });
  });
})();
