// The console works without JavaScript; this only makes the file drop zone friendlier and
// refuses a file over the upload limit before the browser spends minutes sending it.
(function () {
  "use strict";
  var form = document.getElementById("upload");
  if (!form) return;
  var drop = document.getElementById("drop");
  var input = document.getElementById("files");
  var error = document.getElementById("upload-error");
  var limit = parseInt(form.getAttribute("data-max-bytes"), 10) || 0;

  function mb(n) { return (n / 1048576).toFixed(n < 10485760 ? 1 : 0) + " MB"; }
  function show(message) { error.textContent = message; error.hidden = !message; }

  function check() {
    var total = 0, names = [];
    for (var i = 0; i < input.files.length; i++) { total += input.files[i].size; names.push(input.files[i].name); }
    drop.querySelector("span").textContent = names.length ? names.join(", ") : "Drop files or a .zip here, or click to choose";
    if (limit && total > limit) {
      show("That is " + mb(total) + "; one import can take at most " + mb(limit) + ". " +
           "For a social-media export, choose the JSON format and leave out photos and videos.");
      return false;
    }
    show("");
    return true;
  }
  ["dragenter", "dragover"].forEach(function (e) {
    drop.addEventListener(e, function () { drop.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (e) {
    drop.addEventListener(e, function () { drop.classList.remove("over"); });
  });
  input.addEventListener("change", check);
  form.addEventListener("submit", function (event) {
    if (!input.files.length) { show("Choose at least one file."); event.preventDefault(); return; }
    if (!check()) event.preventDefault();
  });
})();
