// Recovery tracker (progressive enhancement): default the diary day to the phone's own date, not the server's.
(function () {
  var input = document.querySelector("input[type=date][data-local-today]");
  if (!input) { return; }
  var now = new Date();
  var local = new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
  input.value = local;
  input.max = local;
})();
