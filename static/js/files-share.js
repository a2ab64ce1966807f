// Upload-only share links: anonymous tus uploads into the shared folder.
(function () {
  "use strict";
  const box = document.getElementById("shared-upload");
  if (!box) { return; }
  document.getElementById("share-file-input").addEventListener("change", function (event) {
    Array.from(event.target.files).forEach(function (file) {
      const row = document.createElement("li");
      const bar = document.createElement("progress");
      bar.max = 100; bar.value = 0;
      row.append(file.name + " ", bar);
      document.getElementById("share-upload-list").append(row);
      new window.tus.Upload(file, {
        endpoint: box.dataset.uploadUrl,
        chunkSize: 16 * 1024 * 1024,
        metadata: {filename: file.name},
        onProgress: function (sent, total) { bar.value = total ? Math.round(100 * sent / total) : 100; },
        onSuccess: function () { bar.value = 100; row.classList.add("ok"); },
        onError: function () { row.classList.add("bad"); },
      }).start();
    });
  });
})();
