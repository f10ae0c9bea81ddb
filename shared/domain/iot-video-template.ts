/**
 * What the IoT Video template shows and suggests (seed 003 §5.1–5.2), as plain values: no zod here, so the
 * console's browser bundle can import them without the schema library.
 */

/**
 * The colours the IoT Video template shows for a colour left out (seed 003 §5.2: the console "显示小程序默认的配色").
 * Shown to frontends (`effectiveTheme`), never written into ext_json: a left-out colour stays the template's own.
 */
export const IOT_VIDEO_THEME_DEFAULTS = { mainColor: '#0052D9', secondaryColor: '#E8F3FF' } as const;

/**
 * Widths the IoT Video console suggests (seed 003 §5.1: 建议宽度不超过150px / 370px). Suggestions, not limits:
 * WeChat sets none, and the template still shows a wider image, so a wider one is accepted with a warning
 * (`imageWarnings`) instead of refused.
 */
export const APP_DOWNLOAD_QR_SUGGESTED_WIDTH = 150;
export const INSTRUCTIONS_IMAGE_SUGGESTED_WIDTH = 370;
