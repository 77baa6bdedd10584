// doppel chat widget: <script src="https://HOST/widget.js" data-agent="SLUG" async></script>
// Adds a round button in the page's corner that opens the agent's chat in a panel.
(function () {
  "use strict";
  const script = document.currentScript;
  if (!script || !script.dataset.agent) return;
  const origin = new URL(script.src, location.href).origin;
  const slug = script.dataset.agent;
  const color = script.dataset.color || "#2f4a3a";

  const button = document.createElement("button");
  button.type = "button";
  button.setAttribute("aria-label", "Open chat");
  button.textContent = "💬";
  button.style.cssText = "position:fixed;right:20px;bottom:20px;width:56px;height:56px;" +
    "border-radius:50%;border:0;font-size:26px;cursor:pointer;z-index:2147483646;" +
    "box-shadow:0 4px 14px rgba(0,0,0,.25);color:#fff;background:" + color;

  let frame = null;
  button.addEventListener("click", function () {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.src = origin + "/a/" + encodeURIComponent(slug) + "?embed=1";
      frame.title = "Chat";
      frame.style.cssText = "position:fixed;right:20px;bottom:88px;width:min(380px,calc(100vw - 40px));" +
        "height:min(560px,calc(100vh - 120px));border:0;border-radius:14px;z-index:2147483647;" +
        "box-shadow:0 8px 30px rgba(0,0,0,.3);background:#fff";
      document.body.appendChild(frame);
    } else {
      frame.style.display = frame.style.display === "none" ? "block" : "none";
    }
  });
  document.body.appendChild(button);
})();
