// gpix web UI entry: the stylesheet (bundled to assets/app-HASH.css) and the
// <gpix-app> element.
import "./styles.css";
import "./ui/app.ts";
